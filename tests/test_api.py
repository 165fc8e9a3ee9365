"""The JSON API: exact shapes and types, pagination, errors, and agreement with the catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient
from test_pages_html import empty_store_client

from vod.catalog import Catalog
from vod.config import Settings
from vod.pages import LIST_PAGE_SIZE
from vod.web.app import create_app

__all__ = ["empty_store_client"]  # the module fixture, shared with the HTML tests

SNOWFLAKE = "training-arctic-at-snowflake"
EVENT = "systems-scale-2024"

LIST_KEYS = {"total", "results", "next"}
# Issue #11: /api/talks is the twin of /talks; its keys stay, with paging, sort and filters.
TALKS_KEYS = LIST_KEYS | {"page", "pages", "prev", "sort", "filters"}
SEARCH_KEYS = LIST_KEYS | {
    "query",
    "page",
    "corrected",
    "searched_corrected",
    "any_terms",
    "all_words",
}
# Issue #3 added facets with counts, the filters and sort in force, and a flag for a search that
# ran out of time.
SEARCH_KEYS |= {"facets", "filters", "sort", "partial"}
SUMMARY_KEYS = {
    "slug",
    "title",
    "url",
    "event",
    "kind",
    "start",
    "end",
    "speakers",
    "recording_speakers",
    # Issue #11: what a card shows.
    "thumbnail",
    "duration",
    "recording_status",
    "day",
}
TALK_KEYS = SUMMARY_KEYS | {
    "abstract",
    "session",
    "duration",
    "former_slugs",
    "tags",
    "links",
    "recording",
    "related",
    "duration_s",  # from here: what `vod media` made (issue #14; tests/test_media_web.py)
    "poster",
    "downloads",
}
RECORDING_KEYS = {"status", "src", "media_type", "placeholder", "note", "captions", "chapters"}
SPEAKER_KEYS = {"slug", "name", "company", "url"}
HIT_KEYS = {
    "slug",
    "title",
    "url",
    "speakers",
    "recording_speakers",
    "event",
    "snippet",
    "matched_in",
    "via_recording",
    "score",
    "moment",  # issue #3: where the words were said in the recording (a transcript cue), or null
}
EVENT_KEYS = {
    "slug",
    "name",
    "url",
    "start_date",
    "end_date",
    "timezone",
    "location",
    "description",
    "sessions",
    # Issue #11: the agenda is paged like every list, and says how it is ordered.
    "order",
    "total",
    "page",
    "pages",
    "next",
    "prev",
}


def get_json(client: TestClient, url: str, status: int = 200, **params: Any) -> Any:
    response = client.get(url, params=params or None)
    assert response.status_code == status, (url, response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    return response.json()


def check_speaker(value: Any) -> None:
    assert set(value) == SPEAKER_KEYS
    assert isinstance(value["slug"], str)
    assert value["name"] is None or isinstance(value["name"], str)
    assert value["company"] is None or isinstance(value["company"], str)
    assert value["url"] == f"http://testserver/speakers/{value['slug']}"


def check_summary(value: Any) -> None:
    assert set(value) == SUMMARY_KEYS
    assert isinstance(value["slug"], str)
    assert value["title"] is None or isinstance(value["title"], str)
    assert value["url"] == f"http://testserver/talks/{value['slug']}"
    assert set(value["event"]) == {"slug", "name"}
    assert all(isinstance(v, str) for v in value["event"].values())
    assert isinstance(value["kind"], str)
    for key in ("start", "end"):
        assert value[key] is None or isinstance(value[key], str)
    for key in ("speakers", "recording_speakers"):
        assert isinstance(value[key], list)
        for speaker in value[key]:
            check_speaker(speaker)


def check_hit(value: Any) -> None:
    assert set(value) == HIT_KEYS
    assert isinstance(value["slug"], str)
    assert value["title"] is None or isinstance(value["title"], str)
    assert value["url"] == f"http://testserver/talks/{value['slug']}"
    for key in ("speakers", "recording_speakers"):
        assert isinstance(value[key], list) and all(isinstance(n, str) for n in value[key])
    assert set(value["event"]) == {"slug", "name"}
    assert isinstance(value["snippet"], str)
    assert isinstance(value["matched_in"], str)
    assert isinstance(value["via_recording"], bool)
    assert isinstance(value["score"], float) and value["score"] > 0


# ---- /api/talks -----------------------------------------------------------------------------


def test_api_talks_shape(client: TestClient, bundled_catalog: Catalog) -> None:
    body = get_json(client, "/api/talks")
    assert set(body) == TALKS_KEYS
    assert body["total"] == len(bundled_catalog.talks)
    assert isinstance(body["results"], list) and body["next"] is None
    for talk in body["results"]:
        check_summary(talk)
    assert [t["slug"] for t in body["results"]] == [
        t.slug for t in bundled_catalog.event_talks(EVENT)
    ]


def test_api_talks_cache_header(client: TestClient, settings: Settings) -> None:
    # Public (for a CDN) once links come from VOD_BASE_URL; built from the request's Host
    # header, they must not be kept by a shared cache (issue #10, item 7).
    app = create_app(settings.replace(base_url="https://vod.example.org"))
    with TestClient(app, base_url="https://vod.example.org") as based:
        assert based.get("/api/talks").headers["cache-control"] == "public, max-age=60"
    assert client.get("/api/talks").headers["cache-control"] == "private, max-age=60"


def test_api_talks_filters_by_event(client: TestClient, bundled_catalog: Catalog) -> None:
    body = get_json(client, "/api/talks", event=EVENT)
    assert body["total"] == len(bundled_catalog.talks)
    missing = get_json(client, "/api/talks", 404, event="no-such-event")
    assert missing == {"error": "There is no event at this address."}


MANY = LIST_PAGE_SIZE + 10


@pytest.fixture(scope="module")
def many_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A made-up event with more talks than one page of /api/talks."""
    root = tmp_path_factory.mktemp("many")
    lines = [
        "event:",
        "  slug: many-talks-2031",
        "  name: Many Talks 2031",
        "  start_date: 2031-05-01",
        "  timezone: UTC",
        "talks:",
    ]
    for i in range(MANY):
        lines += [
            f"  - slug: talk-{i:03d}",
            f"    title: Numbered talk {i:03d}",
            f'    start: "{8 + i // 6:02d}:{(i % 6) * 10:02d}"',
        ]
    catalog = root / "many.yaml"
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(catalog=catalog, index_dir=root / "index", media_dir=root / "media")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_api_talks_pagination(many_client: TestClient) -> None:
    first = get_json(many_client, "/api/talks")
    assert first["total"] == MANY
    assert len(first["results"]) == LIST_PAGE_SIZE
    assert first["next"] is not None
    next_url = urlsplit(first["next"])
    assert (next_url.scheme, next_url.netloc, next_url.path) == ("http", "testserver", "/api/talks")
    assert parse_qs(next_url.query) == {"page": ["2"]}
    second = get_json(many_client, first["next"])
    assert second["total"] == MANY and second["next"] is None
    assert len(second["results"]) == MANY - LIST_PAGE_SIZE
    slugs = [t["slug"] for t in first["results"] + second["results"]]
    assert slugs == [f"talk-{i:03d}" for i in range(MANY)]  # agenda order across pages


def test_api_talks_next_keeps_the_filter(many_client: TestClient) -> None:
    body = get_json(many_client, "/api/talks", event="many-talks-2031")
    assert parse_qs(urlsplit(body["next"]).query) == {"event": ["many-talks-2031"], "page": ["2"]}


def test_api_talks_page_past_the_end_is_empty(many_client: TestClient) -> None:
    body = get_json(many_client, "/api/talks", page="3")
    assert {k: body[k] for k in LIST_KEYS} == {"total": MANY, "results": [], "next": None}


def test_api_links_use_the_base_url(tmp_path: Path, settings: Settings) -> None:
    app = create_app(settings.replace(base_url="https://vod.example.org"))
    # With a base URL, only its host is served (issue #10, item 7).
    with TestClient(app, base_url="https://vod.example.org") as c:
        talk = get_json(c, f"/api/talks/{SNOWFLAKE}")
        assert talk["url"] == f"https://vod.example.org/talks/{SNOWFLAKE}"
        assert talk["recording"]["src"] == "https://vod.example.org/static/placeholder.mp4"
        hits = get_json(c, "/api/search", q="systems")
        assert hits["next"] == "https://vod.example.org/api/search?q=systems&page=2"


# ---- /api/talks/{slug} ----------------------------------------------------------------------


def test_api_talk_snowflake(client: TestClient) -> None:
    talk = get_json(client, f"/api/talks/{SNOWFLAKE}")
    assert set(talk) == TALK_KEYS
    check_summary({k: talk[k] for k in SUMMARY_KEYS})
    assert talk["title"] == "Training Arctic at Snowflake"
    assert [s["name"] for s in talk["speakers"]] == ["Jeff Rasley", "Lawrence Moore"]
    assert [s["name"] for s in talk["recording_speakers"]] == ["Jeff Rasley", "Hyungtae Kim"]
    assert talk["event"] == {"slug": EVENT, "name": "Systems @Scale 2024"}
    assert talk["start"] is None and talk["end"] is None and talk["session"] is None
    assert isinstance(talk["abstract"], str) and talk["abstract"].startswith("In this case")
    assert talk["former_slugs"] == [] and talk["tags"] == []
    assert talk["links"] == [
        {
            "title": "Video page on atscaleconference.com",
            "url": "https://atscaleconference.com/videos/training-arctic-at-snowflake/",
        }
    ]
    assert isinstance(talk["related"], list) and all(isinstance(s, str) for s in talk["related"])
    assert SNOWFLAKE not in talk["related"]


def test_api_talk_says_what_its_card_says(
    empty_store_client: TestClient, bundled_catalog: Catalog
) -> None:
    """A talk's JSON and its entry in /api/talks agree on what the card shows (issue #11): a
    placeholder plays here, or the recording is on the event's site; related talks likewise."""
    client = empty_store_client
    listed = {t["slug"]: t for t in get_json(client, "/api/talks", event=EVENT)["results"]}
    assert len(listed) == len(bundled_catalog.talks)
    card_keys = ("thumbnail", "duration", "recording_status", "day")
    talk = get_json(client, f"/api/talks/{SNOWFLAKE}")
    keynote = get_json(client, "/api/talks/systems-scale-2024-keynote")
    assert (talk["recording_status"], keynote["recording_status"]) == ("elsewhere", "placeholder")
    for slug in (SNOWFLAKE, keynote["slug"], *talk["related"]):
        one = talk if slug == SNOWFLAKE else get_json(client, f"/api/talks/{slug}")
        assert {k: one[k] for k in card_keys} == {k: listed[slug][k] for k in card_keys}, slug


def test_api_talk_recording_is_the_labelled_placeholder(client: TestClient) -> None:
    recording = get_json(client, f"/api/talks/{SNOWFLAKE}")["recording"]
    assert set(recording) == RECORDING_KEYS
    assert recording["status"] == "placeholder" and recording["placeholder"] is True
    assert recording["src"] == "http://testserver/static/placeholder.mp4"
    assert recording["media_type"] == "video/mp4"
    assert isinstance(recording["note"], str) and "placeholder" in recording["note"]
    assert recording["captions"] == [
        {
            "lang": "en",
            "label": "English (describes the sample clip)",
            "src": "http://testserver/static/placeholder.en.vtt",
        }
    ]
    assert recording["chapters"] == []


def test_api_talk_timed(client: TestClient) -> None:
    talk = get_json(client, "/api/talks/systems-scale-2024-keynote")
    assert talk["start"] == "2024-06-12T10:05:00-07:00"
    assert talk["end"] == "2024-06-12T10:25:00-07:00"
    assert talk["duration"] == 1200 and talk["kind"] == "keynote"
    assert talk["speakers"] == talk["recording_speakers"]


def test_api_talk_untitled_is_null_not_invented(client: TestClient) -> None:
    talk = get_json(client, "/api/talks/systems-scale-2024-llm-serving")
    assert talk["title"] is None and talk["speakers"] == [] and talk["duration"] is None


@pytest.mark.parametrize(
    "slug", ["no-such-talk", "training-arctic-at-snowflak", "%00", "%ED%A0%80", "a" * 300]
)
def test_api_talk_not_found_is_json(client: TestClient, slug: str) -> None:
    assert get_json(client, f"/api/talks/{slug}", 404) == {
        "error": "There is no talk at this address."
    }


def test_api_unknown_path_is_json_404(client: TestClient) -> None:
    body = get_json(client, "/api/no-such-thing", 404)
    assert set(body) == {"error"} and isinstance(body["error"], str)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("url", ["/api/talks", f"/api/talks/{SNOWFLAKE}", "/api/search?q=a"])
def test_api_wrong_method_is_json_405(client: TestClient, method: str, url: str) -> None:
    response = client.request(method, url)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"}
    assert "GET" in response.headers["allow"]


# ---- /api/search ----------------------------------------------------------------------------


def test_api_search_shape(client: TestClient) -> None:
    body = get_json(client, "/api/search", q="rasley")
    assert set(body) == SEARCH_KEYS
    assert body["query"] == "rasley" and body["page"] == 1 and body["total"] == 1
    assert body["next"] is None and body["corrected"] is None
    assert body["searched_corrected"] is False and body["any_terms"] is False
    [hit] = body["results"]
    check_hit(hit)
    assert hit["slug"] == SNOWFLAKE
    assert hit["speakers"] == ["Jeff Rasley", "Lawrence Moore"]
    assert hit["recording_speakers"] == ["Jeff Rasley", "Hyungtae Kim"]
    assert hit["event"] == {"slug": EVENT, "name": "Systems @Scale 2024"}
    assert "<mark>Rasley</mark>" in hit["snippet"]


@pytest.mark.parametrize(
    ("query", "via_recording"),
    [
        ("Jeff Rasley", False),
        ("Lawrence Moore", False),
        ("Hyungtae Kim", True),
        ("speaker:hyungtae", True),
    ],
)
def test_api_search_finds_each_snowflake_presenter(
    client: TestClient, query: str, via_recording: bool
) -> None:
    body = get_json(client, "/api/search", q=query)
    hits = {h["slug"]: h for h in body["results"]}
    assert SNOWFLAKE in hits
    assert hits[SNOWFLAKE]["via_recording"] is via_recording


def test_api_search_pagination(client: TestClient, bundled_catalog: Catalog) -> None:
    first = get_json(client, "/api/search", q="systems")
    assert first["total"] == len(bundled_catalog.talks) and len(first["results"]) == 10
    assert parse_qs(urlsplit(first["next"]).query) == {"q": ["systems"], "page": ["2"]}
    second = get_json(client, first["next"])
    assert second["page"] == 2 and second["next"] is None
    assert second["total"] == first["total"]
    slugs = [h["slug"] for h in first["results"] + second["results"]]
    assert sorted(slugs) == sorted(bundled_catalog.talks)
    scores = [h["score"] for h in first["results"] + second["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_api_search_without_query_is_400(client: TestClient, params: dict[str, str]) -> None:
    body = get_json(client, "/api/search", 400, **params)
    assert set(body) == {"error", "query"} and "/api/search?q=" in body["error"]


def test_api_search_bad_query_is_400_with_message(client: TestClient) -> None:
    body = get_json(client, "/api/search", 400, q="*")
    assert set(body) == {"error", "query"}
    assert body["query"] == "*" and "punctuation" in body["error"]


def test_api_search_and_html_search_agree(client: TestClient) -> None:
    body = get_json(client, "/api/search", q="kubernetes")
    html = client.get("/search", params={"q": "kubernetes"}).text
    assert body["total"] >= 1
    for hit in body["results"]:
        assert f'href="/talks/{hit["slug"]}"' in html


# ---- /api/events/{event} --------------------------------------------------------------------


def test_api_event(client: TestClient, bundled_catalog: Catalog) -> None:
    body = get_json(client, f"/api/events/{EVENT}")
    assert set(body) == EVENT_KEYS
    assert body["slug"] == EVENT and body["name"] == "Systems @Scale 2024"
    assert body["url"] == f"http://testserver/events/{EVENT}"
    assert (body["start_date"], body["end_date"]) == ("2024-06-12", "2024-06-12")
    assert body["timezone"] == "America/Los_Angeles" and body["location"] is None
    assert isinstance(body["description"], str)
    assert isinstance(body["sessions"], list)
    for session in body["sessions"]:
        assert set(session) == {"name", "day", "talks"}  # and its day (issue #11)
        assert session["name"] is None or isinstance(session["name"], str)
        for talk in session["talks"]:
            check_summary(talk)
    order = [t["slug"] for s in body["sessions"] for t in s["talks"]]
    assert order == [t.slug for t in bundled_catalog.event_talks(EVENT)]
    assert order[:3] == [
        "systems-scale-2024-opening-remarks",
        "systems-scale-2024-keynote",
        "building-at-scale-with-h100-eos-dgx-superpod",
    ]


def test_api_event_not_found_is_json(client: TestClient) -> None:
    assert get_json(client, "/api/events/no-such-event", 404) == {
        "error": "There is no event at this address."
    }


# ---- /healthz -------------------------------------------------------------------------------


def test_healthz(client: TestClient, bundled_catalog: Catalog) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"status", "catalog", "index", "storage"}
    assert body["status"] == "ok"
    assert body["catalog"] == {
        "status": "ok",
        "detail": None,
        "talks": len(bundled_catalog.talks),
        "events": 1,
        "digest": bundled_catalog.digest,
    }
    assert set(body["index"]) == {"status", "version", "documents", "built_at"}
    assert body["index"]["status"] == "ok"
    assert body["index"]["documents"] == len(bundled_catalog.talks)
    assert body["index"]["version"].endswith(bundled_catalog.digest)
    assert body["storage"] == {"kind": "local", "status": "ok", "detail": None}


def test_healthz_reports_a_missing_index(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server whose index was never built (startup skipped the build).
    monkeypatch.setattr("vod.web.app.prepare_index", lambda settings, catalog: None)
    with TestClient(create_app(make_settings())) as c:
        body = get_json(c, "/healthz")
        assert body["status"] == "degraded"
        assert set(body["index"]) == {"status", "detail"}
        assert body["index"]["status"] == "missing" and isinstance(body["index"]["detail"], str)
        # Search says so plainly instead of failing.
        error = get_json(c, "/api/search", 503, q="snowflake")["error"]
        assert error.startswith("Search is not available")
        page = c.get("/search", params={"q": "snowflake"})
        assert page.status_code == 503 and "Search is not available" in page.text
