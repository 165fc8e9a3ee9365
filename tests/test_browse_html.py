"""The browse pages as HTML (issue #11): cards, paging, /talks, events, speakers, home.

A made-up catalog large enough to page (tests/browse_catalog.py): an archive event of 60
untimed talks with YouTube recordings, and a three-day event with two rooms whose recordings
are in the store for day one only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from browse_catalog import (
    DAYS,
    MULTI,
    OLD,
    OLD_TALKS,
    PROLIFIC_BIO,
    VIDEO_IDS,
    multi_slug,
    old_slug,
    write_catalog,
)
from starlette.testclient import TestClient
from test_pages_html import Node, get_page

from vod.config import Settings
from vod.web.app import create_app

BASE = "http://testserver"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("browse")
    catalog = write_catalog(root / "catalog")
    media = root / "media"
    for room in (0, 1):  # day one's recordings are in the store; days two and three are not
        for n in range(3):
            key = media / MULTI / f"{multi_slug(0, room, n)}.mp4"
            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_bytes(b"\x00" * 64)
    settings = Settings(catalog=catalog, index_dir=root / "index", media_dir=media)
    with TestClient(create_app(settings)) as client:
        yield client


def cards(doc: Node) -> list[Node]:
    return doc.find_all("article", cls="talk-card")


def card_slugs(doc: Node) -> list[str]:
    return [c.find("a", cls="card-link").attrs["href"].rsplit("/", 1)[1] for c in cards(doc)]  # type: ignore[union-attr]


def head_links(doc: Node) -> dict[str, str]:
    return {
        str(link.attrs["rel"]): str(link.attrs["href"])
        for link in doc.find("head").find_all("link")
        if link.attrs.get("rel") in ("canonical", "prev", "next")
    }


# ---- cards ----------------------------------------------------------------------------------


def test_card_has_a_sized_lazy_thumbnail_and_length(site: TestClient) -> None:
    doc = get_page(site, f"/events/{OLD}?page=2")  # by title: "Z00 talk" is on the last page
    card = next(
        c for c in cards(doc) if old_slug(0) in str(c.find("a", cls="card-link").attrs["href"])
    )
    img = card.find("img")
    video = VIDEO_IDS[0]
    assert img.attrs["src"] == f"https://i.ytimg.com/vi/{video}/hqdefault.jpg"
    assert img.attrs["srcset"] == (
        f"https://i.ytimg.com/vi/{video}/mqdefault.jpg 320w, "
        f"https://i.ytimg.com/vi/{video}/hqdefault.jpg 480w"
    )
    assert (img.attrs["width"], img.attrs["height"]) == ("480", "270")
    assert img.attrs["loading"] == "lazy"
    assert img.attrs["alt"] == "Poster of Z00 talk about testing"
    duration = card.find(cls="duration")
    assert duration.find(cls="visually-hidden").text() == "Length:"
    assert duration.text().endswith("10:00")
    assert not card.find_all(cls="badge")
    assert "Mar 1, 2015" in card.find("p", cls="meta").text()


def test_cards_say_which_recordings_are_placeholders(site: TestClient) -> None:
    doc = get_page(site, f"/events/{MULTI}")
    badges = {
        c.find("a", cls="card-link").attrs["href"].rsplit("/", 1)[1]: [  # type: ignore[union-attr]
            b.text() for b in c.find_all(cls="badge")
        ]
        for c in cards(doc)
    }
    assert badges[multi_slug(0, 0, 0)] == []  # in the store
    assert badges[multi_slug(1, 0, 0)] == ["Placeholder clip"]
    # No poster anywhere: a card's thumbnail is its title card, in several sizes.
    img = cards(doc)[0].find("img")
    assert img.attrs["src"] == f"/cards/{multi_slug(0, 0, 0)}.png?w=480"
    assert "/cards/multi-d0-r0-t0.png?w=640 640w" in str(img.attrs["srcset"])


# ---- /talks -----------------------------------------------------------------------------------


def test_talks_is_paged_with_links_in_head_and_page(site: TestClient) -> None:
    first = get_page(site, "/talks")
    assert len(cards(first)) == 48
    assert head_links(first) == {"canonical": f"{BASE}/talks", "next": f"{BASE}/talks?page=2"}
    nav = first.find("nav", cls="pagination")
    assert nav.find("a", rel="next").attrs["href"] == "/talks?page=2"
    assert "Page 1 of 2" in nav.text()
    second = get_page(site, "/talks?page=2")
    assert len(cards(second)) == OLD_TALKS + 18 - 48
    assert head_links(second) == {"canonical": f"{BASE}/talks?page=2", "prev": f"{BASE}/talks"}
    assert not set(card_slugs(first)) & set(card_slugs(second))
    get_page(site, "/talks?page=3", status=404)
    get_page(site, "/talks?page=x", status=400)


def test_talks_sorts(site: TestClient) -> None:
    titles = [c.find("h3").text() for c in cards(get_page(site, "/talks?sort=title"))]
    assert titles == sorted(titles, key=str.casefold)
    longest = card_slugs(get_page(site, "/talks?sort=longest"))
    assert longest[:2] == [old_slug(59), old_slug(58)]
    shortest = card_slugs(get_page(site, "/talks?sort=shortest"))
    # Recorded lengths from 10 min up by a minute; the 30-minute slots sit among them.
    assert shortest[:3] == [old_slug(0), old_slug(1), old_slug(2)]
    assert set(shortest[20:38]) == {
        multi_slug(d, r, n) for d in range(3) for r in range(2) for n in range(3)
    }
    newest = card_slugs(get_page(site, "/talks"))
    oldest = card_slugs(get_page(site, "/talks?sort=oldest"))
    assert newest[0].startswith("multi-") and oldest[0].startswith("old-")
    get_page(site, "/talks?sort=loudest", status=400)


def test_talks_filters_and_chips(site: TestClient) -> None:
    doc = get_page(site, f"/talks?event={MULTI}&recording=1")
    assert sorted(card_slugs(doc)) == sorted(
        multi_slug(0, r, n) for r in range(2) for n in range(3)
    )
    chips = [a.text() for a in doc.find("ul", cls="chips").find_all("a")]
    assert chips[0].endswith("Event: Multi Conf 2019 ✕")
    assert chips[1].endswith("Recording: with a recording ✕")
    assert len(card_slugs(get_page(site, "/talks?year=2015"))) == 48
    assert len(card_slugs(get_page(site, "/talks?speaker=shy&event=oldconf-2015"))) == 10
    assert card_slugs(get_page(site, "/talks?recording=0&event=oldconf-2015")) == []
    get_page(site, "/talks?year=15", status=400)
    get_page(site, "/talks?recording=maybe", status=400)


def test_talks_controls_are_labelled(site: TestClient) -> None:
    form = get_page(site, "/talks?sort=longest").find("form", cls="browse-controls")
    for select in form.find_all("select"):
        assert form.find("label", for_=str(select.attrs["id"]))
    sort = form.find("select", id="browse-sort")
    assert [o.attrs["value"] for o in sort.find_all("option")] == [
        "newest",
        "oldest",
        "title",
        "longest",
        "shortest",
    ]
    assert "selected" in sort.find("option", value="longest").attrs


# ---- event pages -----------------------------------------------------------------------------


def test_event_is_grouped_by_day_then_room_in_time_order(site: TestClient) -> None:
    doc = get_page(site, f"/events/{MULTI}")
    days = doc.find_all("section", cls="agenda-day")
    assert [d.find("h3").text() for d in days] == [
        "Friday, May 3, 2019",
        "Saturday, May 4, 2019",
        "Sunday, May 5, 2019",
    ]
    rooms = [s.find(cls="session-name").text() for s in days[0].find_all("section", cls="session")]
    assert rooms == ["Room A", "Room B"]  # the room whose first talk starts first
    assert card_slugs(days[0].find_all("section", cls="session")[0]) == [
        multi_slug(0, 0, n) for n in range(3)
    ]
    jump = doc.find("nav", cls="jump")
    assert [(a.text(), a.attrs["href"]) for a in jump.find_all("a")] == [
        (label, f"/events/{MULTI}#d-{day}")
        for label, day in zip(
            ["Friday, May 3, 2019", "Saturday, May 4, 2019", "Sunday, May 5, 2019"],
            DAYS,
            strict=True,
        )
    ]
    assert doc.find("section", id=f"d-{DAYS[1]}")


def test_archive_event_without_times_is_listed_by_title_and_paged(site: TestClient) -> None:
    doc = get_page(site, f"/events/{OLD}")
    titles = [c.find("h3").text() for c in cards(doc)]
    assert titles == sorted(titles)
    assert len(titles) == 48
    assert "not published yet" not in doc.text().lower()
    assert head_links(doc)["next"] == f"{BASE}/events/{OLD}?page=2"
    assert len(cards(get_page(site, f"/events/{OLD}?page=2"))) == OLD_TALKS - 48
    get_page(site, f"/events/{OLD}?page=3", status=404)


# ---- speaker pages ---------------------------------------------------------------------------


def test_speaker_photo_bio_count_roles_and_paging(site: TestClient) -> None:
    doc = get_page(site, "/speakers/prolific")
    photo = doc.find("img", cls="speaker-photo")
    assert photo.attrs["src"] == "https://images.example.org/pat.jpg"
    assert photo.attrs["alt"] == "Photo of Pat Prolific"
    assert doc.find("section", cls="bio").text() == PROLIFIC_BIO  # in full, never cut
    assert doc.find("p", cls="talk-count").text().startswith("60 talks")
    groups = doc.find_all("section", cls="role-group")
    assert [g.find("h3").text() for g in groups] == ["Presented live and in the recording (50)"]
    assert len(cards(doc)) == 48
    second = get_page(site, "/speakers/prolific?page=2")
    labels = [g.find("h3").text() for g in second.find_all("section", cls="role-group")]
    assert labels == [
        "Presented live and in the recording (50)",
        "In the recording (did not present live) (10)",
    ]
    assert head_links(second)["canonical"] == f"{BASE}/speakers/prolific?page=2"


# ---- home ------------------------------------------------------------------------------------


def test_home_grid_events_with_covers_and_search(site: TestClient) -> None:
    doc = get_page(site, "/")
    latest = doc.find("section", **{"aria-labelledby": "latest-h"})
    assert latest.find("h2").text() == "Newest recordings"
    slugs = card_slugs(latest)
    # Real recordings only: day one's store recordings and the YouTube ones, never placeholders.
    assert multi_slug(1, 0, 0) not in slugs and multi_slug(0, 0, 0) in slugs
    events = doc.find("ol", cls="event-cards").find_all("article", cls="event-card")
    covers = {e.find("a").attrs["href"]: e.find("img").attrs["src"] for e in events}
    assert covers[f"/events/{OLD}"] == f"https://i.ytimg.com/vi/{VIDEO_IDS[0]}/hqdefault.jpg"
    assert str(covers[f"/events/{MULTI}"]).startswith("/cards/")
    assert doc.find("a", cls="button-link").attrs["href"] == "/talks"
    box = doc.find("input", id="home-q")
    assert box.attrs["data-suggest"] == "/api/suggest"
    assert "has-page-search" in doc.find("body").classes  # one search box on a phone


def test_favicon(site: TestClient) -> None:
    icon = get_page(site, "/").find("link", rel="icon")
    response = site.get(str(icon.attrs["href"]))
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg")


def test_every_listing_page_is_one_cheap_page(site: TestClient) -> None:
    """No list page ever shows more than 48 cards, whatever the list."""
    for url in ("/", "/talks", f"/events/{OLD}", "/speakers/prolific", "/search?q=testing"):
        assert len(cards(get_page(site, url))) <= 48, url


def test_search_marks_matches_in_titles(site: TestClient) -> None:
    doc = get_page(site, "/search?q=testing")
    heading = doc.find("ol", cls="results").find("h3")
    assert heading.find("mark").text().lower() == "testing"
    assert re.fullmatch(r"[A-Z]\d\d talk about testing", heading.text())


def test_page_query_is_kept_in_next_links(site: TestClient) -> None:
    doc = get_page(site, "/talks?sort=title&year=2015")
    href = doc.find("a", rel="next").attrs["href"]
    assert parse_qs(urlsplit(str(href)).query) == {
        "year": ["2015"],
        "sort": ["title"],
        "page": ["2"],
    }


def test_a_moment_past_the_end_says_so(site: TestClient) -> None:
    doc = get_page(site, f"/talks/{old_slug(0)}?t=12m")  # the recording is 10:00 long
    note = doc.find("p", cls="past-end")
    assert note.text() == (
        "This link starts at 12:00, but the recording is only 10:00 long: "
        "it plays from the beginning."
    )
    assert not get_page(site, f"/talks/{old_slug(0)}?t=9m").find_all(cls="past-end")
