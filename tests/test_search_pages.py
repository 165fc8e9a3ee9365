"""The search page and the transcript on the talk page, read as a browser would (issue #3).

The app serves the sample catalog (tests/data/catalog) with tests/data/store as its store, so
the fictional 2023 keynote has a transcript.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from conftest import DATA, SAMPLE_CATALOG
from starlette.testclient import TestClient
from test_pages_html import Node, get_page, talk_slugs

from vod.config import Settings
from vod.index import SearchResults
from vod.pages import SearchHitCard, SearchPage
from vod.web.app import create_app

DEPLOY = "continuous-deployment-for-imaginary-services"
DUCKS = "observability-for-rubber-ducks"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("search-pages")
    settings = Settings(catalog=SAMPLE_CATALOG, index_dir=root / "index", media_dir=DATA / "store")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def search(client: TestClient, status: int = 200, **params: str | list[str]) -> Node:
    return get_page(client, "/search?" + urlencode(params, doseq=True), status)


def query_of(href: str | None) -> dict[str, list[str]]:
    assert href is not None
    return parse_qs(urlsplit(href).query)


def test_query_language_is_explained(client: TestClient) -> None:
    help_text = search(client).find("details", cls="help").text()
    for syntax in ('"quoted words"', "-word", "infra*", "speaker:", "event:", "company:", "year:"):
        assert syntax in help_text


def test_filters_are_an_accessible_form_with_counts(client: TestClient) -> None:
    doc = search(client, q="testconf")
    aside = doc.find("aside", cls="facets")
    assert aside.find("h2").attrs["id"] == aside.attrs["aria-labelledby"]
    form = aside.find("form")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "/search"
    assert form.find("input", type="hidden", name="q").attrs["value"] == "testconf"
    legends = [f.find("legend").text() for f in form.find_all("fieldset")]
    assert legends == ["Event", "Speaker", "Company", "Year", "Recording"]
    event = form.find_all("fieldset")[0]
    labels = [label.text() for label in event.find_all("label")]
    # Seen as "(5)"; heard as "5 talks".
    assert labels == ["TestConf 2024 (5) 5 talks", "TestConf 2023 (3) 3 talks"]
    assert event.find("span", cls="count").attrs["aria-hidden"] == "true"
    box = event.find("input", value="testconf-2023")
    assert (box.attrs["type"], box.attrs["name"]) == ("checkbox", "event")
    assert "checked" not in box.attrs
    assert form.find("button").text() == "Apply filters"  # works without a script


def test_filters_in_the_url_narrow_and_show(client: TestClient) -> None:
    doc = search(client, q="testconf", event="testconf-2023", sort="newest")
    assert doc.find("h2", id="results-h").text() == "3 talks found"
    box = doc.find("input", value="testconf-2023")
    assert "checked" in box.attrs
    assert doc.find("form", method="get").find("input", name="q").attrs["value"] == "testconf"
    form = doc.find("aside", cls="facets").find("form")
    assert form.find("input", type="hidden", name="sort").attrs["value"] == "newest"
    chips = doc.find("ul", cls="chips").find_all("a")
    assert chips[0].text() == "Remove the filter Event: TestConf 2023 ✕"
    assert query_of(chips[0].attrs["href"]) == {"q": ["testconf"], "sort": ["newest"]}
    assert chips[-1].text() == "Clear all filters"


def test_sort_links_keep_the_query_and_filters(client: TestClient) -> None:
    doc = search(client, q="testconf", year="2024")
    nav = doc.find("nav", cls="sort")
    assert nav.attrs["aria-label"] == "Sort results"
    assert nav.find("span", **{"aria-current": "true"}).text() == "Relevance"
    newest = nav.find("a")
    assert newest.text() == "Newest first"
    assert query_of(newest.attrs["href"]) == {
        "q": ["testconf"],
        "year": ["2024"],
        "sort": ["newest"],
    }
    sorted_doc = get_page(client, str(newest.attrs["href"]))
    assert talk_slugs(sorted_doc.find("ol", cls="results"))[0] == "streaming-from-elsewhere"


def test_pagination_keeps_filters_and_sort(client: TestClient) -> None:
    doc = search(client, q="testconf", event=["testconf-2023", "testconf-2024"], sort="oldest")
    assert doc.find("h2", id="results-h").text() == "8 talks found"
    # One page of ten: no pagination; ask for pages of the API instead.
    assert not doc.find_all("nav", cls="pagination")


def test_filters_alone_list_talks(client: TestClient) -> None:
    doc = search(client, speaker="chloe-sample")
    assert doc.find("h2", id="results-h").text() == "3 talks found"
    current = doc.find("nav", cls="sort").find("span", **{"aria-current": "true"})
    assert current.text() == "Newest first"


def test_transcript_hit_links_to_the_moment(client: TestClient) -> None:
    doc = search(client, q="flamingo")
    item = doc.find("ol", cls="results").find("li")
    snippet = item.find("p", cls="snippet")
    link = snippet.find("a")
    assert link.attrs["href"] == f"/talks/{DEPLOY}?t=9"
    assert link.text() == "0:09"
    assert snippet.text().startswith("Said at 0:09 in the recording:")
    assert [m.text() for m in snippet.find_all("mark")] == ["flamingo"]


def test_abstract_hit_also_names_the_moment(client: TestClient) -> None:
    item = search(client, q="rollbacks").find("ol", cls="results").find("li")
    assert item.find("p", cls="snippet").text().startswith("In the abstract:")
    moment = item.find("p", cls="moment")
    assert moment.find("a").attrs["href"] == f"/talks/{DEPLOY}?t=1200"
    assert moment.find("a").text() == "20:00"


def test_talk_page_shows_the_transcript_with_links(client: TestClient) -> None:
    doc = get_page(client, f"/talks/{DEPLOY}?t=330")
    section = doc.find("section", cls="transcript")
    assert section.find("h2").text() == "Transcript"
    cues = section.find("ol", cls="cues").find_all("li")
    assert len(cues) == 6
    first = cues[1].find("a")
    assert first.attrs["href"] == f"/talks/{DEPLOY}?t=9"
    assert first.attrs["data-seek"] == "9"
    current = [c for c in cues if "current" in c.classes]
    assert len(current) == 1 and current[0].find("a").attrs["data-seek"] == "330"
    assert current[0].attrs["aria-current"] == "true"
    # The player carries the captions as a track.
    track = doc.find("track", kind="captions")
    assert track.attrs["srclang"] == "en"
    assert not get_page(client, f"/talks/{DUCKS}").find_all("section", cls="transcript")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x", "sort": "random"}, "sorted by relevance, newest, oldest"),
        ({"q": "x", "year": "last"}, "A year filter is a year"),
        ({"q": "x", "recording": "yes"}, "recording=1"),
        ({"q": "x", "event": [f"e{n}" for n in range(21)]}, "at most 20"),
        ({"event": "x" * 300}, "at most 20"),
    ],
)
def test_bad_filters_are_explained(
    client: TestClient, params: dict[str, str | list[str]], message: str
) -> None:
    doc = search(client, 400, **params)
    error = doc.find("p", cls="error-message")
    assert message in error.text() and error.attrs["role"] == "alert"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "testconf", "event": "no-such-event"},
        {"q": "testconf", "company": "\u0000odd"},
        {"q": "*a*", "speaker": "ada-example"},
        {"q": "zzqqxx", "year": "1999"},
        {"q": "", "recording": "0"},
    ],
)
def test_odd_filters_never_fail(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/search", params=params)
    assert response.status_code in (200, 400)
    assert response.headers["content-type"].startswith("text/html")


def test_suggest_script_enhances_the_box(client: TestClient) -> None:
    doc = search(client, q="ducks")
    box = doc.find("input", id="search-q")
    assert box.attrs["data-suggest"] == "/api/suggest"
    assert box.attrs["autocomplete"] == "off"
    scripts = [s.attrs.get("src") for s in doc.find_all("script")]
    assert "/static/suggest.js" in scripts
    assert client.get("/static/suggest.js").status_code == 200


def test_transcript_section_only_when_captions_are_indexed(tmp_path: Path) -> None:
    settings = Settings(catalog=SAMPLE_CATALOG, index_dir=tmp_path / "i", media_dir=tmp_path / "m")
    with TestClient(create_app(settings)) as bare:
        assert not get_page(bare, f"/talks/{DEPLOY}").find_all("section", cls="transcript")


def test_a_query_echoed_into_the_page_drops_control_characters_and_isolates_direction(
    client: TestClient,
) -> None:
    # Issue #10, item 9: NUL and escapes never reach the page; a right-to-left override in a
    # query cannot reverse the text around it.
    response = client.get("/search", params={"q": "snow\x00fl\x1bake \u202eevil"})
    assert response.status_code == 200
    text = response.text
    assert "\x00" not in text and "\x1b" not in text
    assert 'value="snowflake \u202eevil"' in text
    title = text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "\u202e" not in title
    assert 'dir="auto"' in text
    api = client.get("/api/search", params={"q": "snow\x00flake"}).json()
    assert api["query"] == "snowflake"


def test_a_corrected_query_is_isolated(client: TestClient) -> None:
    text = client.get("/search", params={"q": "deploymnt"}).text
    assert "No talks match <strong><bdi>deploymnt</bdi></strong>" in text
    assert "Showing results for <strong><bdi>deployment</bdi></strong>" in text


def test_talks_with_some_of_the_words_are_listed_apart(client: TestClient) -> None:
    """Issue #12: below a short page of talks with every word, those with some of them, under
    a heading of their own, numbered on from the first list."""
    doc = search(client, q="continuous production")
    assert doc.find("h2", id="results-h").text() == "2 talks found"
    every, some = doc.find_all("ol", cls="results")
    assert every.attrs["start"] == "1" and some.attrs["start"] == "2"
    assert talk_slugs(every) == [DEPLOY]
    assert talk_slugs(some) == ["testconf-2024-keynote"]
    heading = doc.find("h3", id="some-words-h")
    assert heading.text() == "Talks with some of the words"
    assert some.attrs["aria-labelledby"] == "some-words-h"
    assert "No talk has all of these words" not in doc.text()


def test_a_search_with_no_talk_having_every_word_says_it_once(client: TestClient) -> None:
    doc = search(client, q="canary storage")
    assert "No talk has all of these words" in doc.text()
    [only] = doc.find_all("ol", cls="results")
    assert only.attrs["start"] == "1" and len(talk_slugs(only)) == 2
    assert not doc.find_all("h3", id="some-words-h")


def test_a_search_whose_talks_have_every_word_is_one_list(client: TestClient) -> None:
    doc = search(client, q="testconf")
    [only] = doc.find_all("ol", cls="results")
    assert "results-tail" not in only.classes
    assert not doc.find_all("h3", id="some-words-h")


def test_the_api_says_where_the_talks_with_every_word_end(client: TestClient) -> None:
    body = client.get("/api/search?q=continuous+production").json()
    assert body["all_words"] == 1 and body["total"] == 2 and body["any_terms"] is False
    assert [r["slug"] for r in body["results"]][:1] == [DEPLOY]


@pytest.mark.parametrize(
    ("page", "all_words", "total", "expected"),
    [
        (1, 3, 25, 3),  # the tail starts on this page
        (2, 12, 25, 2),
        (3, 12, 25, 0),  # the page is all tail: its heading opens the page
        (1, 25, 25, 10),  # no tail
        (2, 0, 25, 0),  # no talk had every word
    ],
)
def test_the_talks_with_every_word_are_counted_per_page(
    page: int, all_words: int, total: int, expected: int
) -> None:
    results = SearchResults("x y", total, page, 10, (), all_words=all_words)
    hits = cast(tuple[SearchHitCard, ...], tuple(range(10)))
    assert SearchPage("x y", results, hits).with_every_word == expected
