"""The application: built from explicit Settings, its lifespan, its routes and template context."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from vod import browse, pages
from vod.catalog import Catalog, load_catalog
from vod.config import BUNDLED_CATALOG, Settings
from vod.errors import CatalogError
from vod.index import SearchIndex, build_index, current_version, index_state
from vod.listing import CardFacts, TalkCard
from vod.storage import LocalStorage, Recordings
from vod.urls import SiteUrls
from vod.web.app import create_app, make_templates
from vod.web.kept_pages import RenderedPages
from vod.web.state import AppState

SNOWFLAKE = "training-arctic-at-snowflake"
EVENT = "systems-scale-2024"

TINY_YAML = textwrap.dedent(
    """\
    event:
      slug: tiny-event-2029
      name: Tiny Event 2029
      start_date: 2029-09-09
      timezone: UTC
    talks:
      - slug: only-talk
        title: The Only Talk About Wombats
        speakers: [sam-example]
    speakers:
      - slug: sam-example
        name: Sam Example
    """
)


@pytest.fixture
def tiny_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "tiny" / "tiny.yaml"
    path.parent.mkdir()
    path.write_text(TINY_YAML, encoding="utf-8")
    return path


# ---- create_app and explicit Settings ---------------------------------------------------------


def test_create_app_uses_the_settings_it_is_given(
    make_settings: Callable[..., Settings], tiny_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment points elsewhere; create_app must not read it.
    monkeypatch.setenv("VOD_CATALOG", str(tiny_catalog.parent / "missing.yaml"))
    monkeypatch.setenv("VOD_INDEX_DIR", str(tiny_catalog.parent / "wrong-index"))
    settings = make_settings(catalog=tiny_catalog)
    with TestClient(create_app(settings)) as client:
        state = client.app_state["vod"]
        assert isinstance(state, AppState)
        assert state.settings is settings
        assert set(state.catalog.talks) == {"only-talk"}
        assert isinstance(state.search, SearchIndex)
        assert state.search.index_dir == settings.index_dir
        assert isinstance(state.recordings.storage, LocalStorage)
        assert state.recordings.storage.root == settings.media_dir.resolve()
        assert client.get("/api/talks").json()["total"] == 1
        assert client.get("/talks/only-talk").status_code == 200
    assert not (tiny_catalog.parent / "wrong-index").exists()


def test_create_app_takes_an_already_loaded_catalog(
    make_settings: Callable[..., Settings], tiny_catalog: Path
) -> None:
    catalog = load_catalog(tiny_catalog)
    # settings.catalog still names the bundled catalog: the given one wins.
    with TestClient(create_app(make_settings(), catalog=catalog)) as client:
        assert client.app_state["vod"].catalog is catalog
        hits = client.get("/api/search", params={"q": "wombats"}).json()
        assert [h["slug"] for h in hits["results"]] == ["only-talk"]


def test_two_apps_with_different_settings_do_not_share_state(
    settings: Settings, make_settings: Callable[..., Settings], tiny_catalog: Path
) -> None:
    with (
        TestClient(create_app(settings)) as bundled,
        TestClient(create_app(make_settings(catalog=tiny_catalog))) as tiny,
    ):
        assert bundled.get("/api/talks").json()["total"] > 1
        assert tiny.get("/api/talks").json()["total"] == 1
        assert bundled.get("/talks/only-talk").status_code == 404
        assert tiny.get(f"/talks/{SNOWFLAKE}").status_code == 404


# ---- lifespan: the index --------------------------------------------------------------------


def test_lifespan_builds_a_missing_index(
    make_settings: Callable[..., Settings], bundled_catalog: Catalog
) -> None:
    settings = make_settings()
    assert not settings.index_dir.exists()
    with TestClient(create_app(settings)) as client:
        assert (settings.index_dir / "CURRENT").is_file()
        assert index_state(settings.index_dir, bundled_catalog) == "current"
        hits = client.get("/api/search", params={"q": "Hyungtae"}).json()["results"]
        assert [h["slug"] for h in hits] == [SNOWFLAKE]


def test_lifespan_builds_into_an_empty_index_folder(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(index_dir=tmp_path / "empty-index")
    settings.index_dir.mkdir()
    with TestClient(create_app(settings)):
        assert (settings.index_dir / "CURRENT").is_file()


def test_lifespan_rebuilds_a_stale_index(
    make_settings: Callable[..., Settings], tiny_catalog: Path, bundled_catalog: Catalog
) -> None:
    settings = make_settings()
    stale = build_index(load_catalog(tiny_catalog), settings.index_dir)
    assert index_state(settings.index_dir, bundled_catalog) == "stale"
    with TestClient(create_app(settings)) as client:
        live = current_version(settings.index_dir)
        assert live is not None and live.path != stale.path
        assert live.digest == bundled_catalog.digest
        assert live.documents == len(bundled_catalog.talks)
        assert index_state(settings.index_dir, bundled_catalog) == "current"
        assert client.get("/api/search", params={"q": "wombats"}).json()["total"] == 0
        assert client.get("/api/search", params={"q": "snowflake"}).json()["total"] == 1


def test_lifespan_keeps_a_current_index(settings: Settings) -> None:
    before = current_version(settings.index_dir)
    with TestClient(create_app(settings)):
        assert current_version(settings.index_dir) == before


BROKEN = {
    "unknown field": (TINY_YAML.replace("    title:", "    titel:"), "titel", 8),
    "unknown speaker": (TINY_YAML.replace("[sam-example]", "[sam-exampel]"), "speakers[0]", 9),
    "yaml syntax": (TINY_YAML.replace("talks:", "talks: [", 1), "(syntax)", None),
    "missing event name": (TINY_YAML.replace("  name: Tiny Event 2029\n", ""), "event.name", 2),
}


@pytest.mark.parametrize(("text", "field", "line"), BROKEN.values(), ids=list(BROKEN))
def test_broken_catalog_fails_startup_loudly(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    text: str,
    field: str,
    line: int | None,
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    settings = make_settings(catalog=path)
    with pytest.raises(CatalogError) as failure, TestClient(create_app(settings)):
        pytest.fail("the app started on a broken catalog")  # pragma: no cover
    problems = failure.value.problems
    assert problems and any(field in p.field for p in problems), problems
    assert all(p.file == str(path) for p in problems)
    if line is not None:
        assert any(p.line == line for p in problems), problems
    assert str(path) in str(failure.value)
    assert not settings.index_dir.exists()  # nothing was built from it


def test_missing_catalog_fails_startup_loudly(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(catalog=tmp_path / "nowhere")
    with (
        pytest.raises(CatalogError, match="no such file or folder"),
        TestClient(create_app(settings)),
    ):
        pytest.fail("the app started without a catalog")  # pragma: no cover


# ---- routes ---------------------------------------------------------------------------------


def test_every_route_has_a_name(settings: Settings) -> None:
    app = create_app(settings)
    names = [route.name for route in app.routes]  # type: ignore[attr-defined]
    assert all(names), app.routes
    assert len(names) == len(set(names))
    assert {
        "home",
        "healthz",
        "search",
        "event",
        "talk",
        "embed",
        "speaker",
        "api_talks",
        "api_talk",
        "api_event",
        "api_search",
        "media",
        "static",
    } <= set(names)


ROUTE_PARAMS = {
    "event": EVENT,
    "slug": SNOWFLAKE,
    "key": "a/b.mp4",
    "path": "vod.css",
    "year": "2024",
}


def test_every_named_route_builds_its_url(settings: Settings) -> None:
    app = create_app(settings)
    for route in app.routes:
        assert isinstance(route, Route | Mount)
        params = {p: ROUTE_PARAMS[p] for p in route.param_convertors}
        if isinstance(route, Mount):
            params = {"path": ROUTE_PARAMS["path"]}
        assert route.name is not None
        url = app.url_path_for(route.name, **params)
        assert url.startswith("/")


@pytest.mark.parametrize(
    ("name", "params", "path"),
    [
        ("home", {}, "/"),
        ("talk", {"slug": SNOWFLAKE}, f"/talks/{SNOWFLAKE}"),
        ("embed", {"slug": SNOWFLAKE}, f"/embed/{SNOWFLAKE}"),
        ("event", {"event": EVENT}, f"/events/{EVENT}"),
        ("speaker", {"slug": "jeff-rasley"}, "/speakers/jeff-rasley"),
        ("search", {}, "/search"),
        ("healthz", {}, "/healthz"),
        ("api_talks", {}, "/api/talks"),
        ("api_talk", {"slug": SNOWFLAKE}, f"/api/talks/{SNOWFLAKE}"),
        ("api_event", {"event": EVENT}, f"/api/events/{EVENT}"),
        ("api_search", {}, "/api/search"),
        ("media", {"key": "a/b.mp4"}, "/media/a/b.mp4"),
        ("static", {"path": "vod.css"}, "/static/vod.css"),
    ],
)
def test_public_urls_are_stable(
    settings: Settings, name: str, params: dict[str, str], path: str
) -> None:
    """The URL table of PRODUCT.md: links and scripts depend on these paths."""
    assert create_app(settings).url_path_for(name, **params) == path


# ---- template context -------------------------------------------------------------------------


@pytest.fixture
def rendered(
    monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Record every top-level template render: its name and its context."""
    # Talk and search pages are kept once rendered (vod/web/middleware.py); start cold so each
    # one renders.
    monkeypatch.setattr(client.app_state["vod"], "rendered", RenderedPages())
    monkeypatch.setattr(client.app_state["vod"], "searched", RenderedPages())
    calls: list[tuple[str, dict[str, Any]]] = []
    original = jinja2.Template.render

    def render(self: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        calls.append((str(self.name), dict(*args, **kwargs)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", render)
    yield calls


@pytest.mark.parametrize(
    ("url", "template", "page_type"),
    [
        ("/", "home.html", browse.HomePage),
        (f"/events/{EVENT}", "event.html", browse.EventPage),
        ("/talks", "talks.html", browse.BrowsePage),
        (f"/talks/{SNOWFLAKE}", "talk.html", pages.TalkPage),
        (f"/talks/{SNOWFLAKE}?t=90", "talk.html", pages.TalkPage),
        (f"/embed/{SNOWFLAKE}", "embed.html", pages.TalkPage),
        ("/speakers/jeff-rasley", "speaker.html", browse.SpeakerPage),
        ("/search", "search.html", pages.SearchPage),
        ("/search?q=rasley", "search.html", pages.SearchPage),
        ("/search?q=*", "search.html", pages.SearchPage),
    ],
)
def test_each_template_receives_its_page_dataclass(
    client: TestClient,
    rendered: list[tuple[str, dict[str, Any]]],
    url: str,
    template: str,
    page_type: type,
) -> None:
    response = client.get(url)
    assert response.status_code < 500
    [(name, context)] = rendered
    assert name == template
    assert type(context["page"]) is page_type
    assert context["request"].url.path == url.split("?")[0]


def test_talk_page_context_carries_the_start_time(
    client: TestClient, rendered: list[tuple[str, dict[str, Any]]]
) -> None:
    client.get(f"/talks/{SNOWFLAKE}?t=1m30s")
    page = rendered[0][1]["page"]
    assert isinstance(page, pages.TalkPage)
    assert page.start_at == 90 and page.start_label == "1:30"
    assert isinstance(page.card, TalkCard) and page.card.talk.slug == SNOWFLAKE
    assert [s.slug for s in page.card.recording_speakers] == ["jeff-rasley", "hyungtae-kim"]


def test_talk_page_asks_the_store_once_and_carries_its_links(
    client: TestClient,
    rendered: list[tuple[str, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recordings = client.app_state["vod"].recordings
    asked: list[str] = []
    original = recordings.playback

    def playback(talk: Any) -> Any:
        asked.append(talk.slug)
        return original(talk)

    monkeypatch.setattr(recordings, "playback", playback)
    client.get(f"/talks/{SNOWFLAKE}?t=90")
    assert asked == [SNOWFLAKE]
    [(_, context)] = rendered
    page = context["page"]
    assert context["links"] is page.links and page.links.share_url.endswith(f"{SNOWFLAKE}?t=90")


def test_search_page_context_holds_hit_cards(
    client: TestClient, rendered: list[tuple[str, dict[str, Any]]]
) -> None:
    client.get("/search?q=rasley")
    page = rendered[0][1]["page"]
    assert isinstance(page, pages.SearchPage) and page.error is None
    assert all(isinstance(h, pages.SearchHitCard) for h in page.hits)
    assert [h.card.talk.slug for h in page.hits] == [SNOWFLAKE]


def test_error_page_context(client: TestClient, rendered: list[tuple[str, dict[str, Any]]]) -> None:
    client.get("/talks/no-such-talk")
    [(name, context)] = rendered
    assert name == "error.html"
    assert context["status_code"] == 404
    assert context["message"] == "There is no talk at this address."
    assert context["suggestion"] == "no such talk"
    assert "page" not in context


def test_page_builders_return_their_dataclasses(bundled_catalog: Catalog, tmp_path: Path) -> None:
    recordings = Recordings(LocalStorage(tmp_path))
    facts = CardFacts.plain(bundled_catalog)
    assert isinstance(browse.home_page(bundled_catalog, facts), browse.HomePage)
    event = browse.event_page(bundled_catalog, EVENT, facts)
    assert isinstance(event, browse.EventPage)
    assert all(isinstance(g, browse.AgendaGroup) for d in event.days for g in d.groups)
    assert event.talk_count == len(bundled_catalog.talks)
    snowflake = bundled_catalog.talk(SNOWFLAKE)
    talk = pages.talk_page(
        bundled_catalog,
        recordings,
        SearchIndex(tmp_path / "no-index"),
        SiteUrls("https://vod.example"),
        snowflake,
        recordings.playback(snowflake),
        754,
        facts=facts,
    )
    assert isinstance(talk, pages.TalkPage) and talk.start_at == 754
    assert talk.links.share_url == f"https://vod.example/talks/{SNOWFLAKE}?t=754"
    assert talk.playback.is_placeholder
    speaker = browse.speaker_page(bundled_catalog, "hyungtae-kim", facts)
    assert isinstance(speaker, browse.SpeakerPage)
    [group] = speaker.groups
    [card] = group.cards
    assert group.role == "recorded" and isinstance(card, TalkCard)
    search = pages.search_page(bundled_catalog, "", None, facts=facts)
    assert isinstance(search, pages.SearchPage) and search.hits == ()


def test_templates_autoescape_every_extension(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_text("<t>{{ value }}</t>")
    (tmp_path / "note.txt").write_text("{{ value }}")
    env = make_templates(settings.replace(templates_dir=tmp_path)).env
    for name in ("feed.xml", "note.txt"):
        assert "&lt;script&gt;" in env.get_template(name).render(value="<script>")


def test_templates_refuse_undefined_names(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "typo.html").write_text("{{ pgae.title }}")
    env = make_templates(settings.replace(templates_dir=tmp_path)).env
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("typo.html").render()


def test_bundled_catalog_is_the_default() -> None:
    assert Settings().catalog == BUNDLED_CATALOG
