"""Pages over an imported catalog: external players, year pages, many events on the home page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA
from starlette.testclient import TestClient
from test_pages_html import get_page, talk_slugs

from vod import browse
from vod.catalog import Catalog, load_catalog
from vod.config import Settings
from vod.importers.pyvideo import import_pyvideo
from vod.listing import CardFacts
from vod.providers import external_player, frame_sources
from vod.web.app import create_app


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("imported")
    import_pyvideo(DATA / "pyvideo", out / "catalog")
    return out


@pytest.fixture(scope="module")
def client(imported: Path) -> Iterator[TestClient]:
    settings = Settings(
        catalog=imported / "catalog", index_dir=imported / "index", media_dir=imported / "media"
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def catalog(imported: Path) -> Catalog:
    return load_catalog(imported / "catalog")


def test_a_youtube_recording_plays_in_youtubes_embed(client: TestClient) -> None:
    doc = get_page(client, "/talks/upgrading-django")
    player = doc.find("div", cls="player")
    frame = player.find("iframe")
    assert frame.attrs["src"] == "https://www.youtube-nocookie.com/embed/DvDX94_x1bk"
    assert frame.attrs["title"] == "Recording: upgrading Django"
    assert player.find_all("video") == []
    source = player.find("p", cls="player-source")
    assert "YouTube" in source.text()
    assert source.find("a").attrs["href"] == "https://www.youtube.com/watch?v=DvDX94_x1bk"


def test_the_embed_starts_at_the_moment_asked_for(client: TestClient) -> None:
    frame = get_page(client, "/talks/upgrading-django?t=90").find("iframe")
    assert frame.attrs["src"] == "https://www.youtube-nocookie.com/embed/DvDX94_x1bk?start=90"


def test_a_clip_plays_only_its_moment_where_the_provider_can(client: TestClient) -> None:
    frame = get_page(client, "/talks/upgrading-django?t=90&end=120").find("iframe")
    assert frame.attrs["src"] == (
        "https://www.youtube-nocookie.com/embed/DvDX94_x1bk?start=90&end=120"
    )
    frame = get_page(client, "/talks/upgrading-django?end=2m").find("iframe")
    assert frame.attrs["src"] == "https://www.youtube-nocookie.com/embed/DvDX94_x1bk?end=120"


@pytest.mark.parametrize(
    ("url", "start", "end", "src"),
    [
        (
            "https://youtu.be/DvDX94_x1bk",
            90,
            60,
            "https://www.youtube-nocookie.com/embed/DvDX94_x1bk?start=90",
        ),
        ("https://vimeo.com/76979871", 30, 60, "https://player.vimeo.com/video/76979871#t=30s"),
        (
            "https://tube.example.org/w/kkGMgK9ZtnKfYAgnEtQxbv",
            30,
            60,
            "https://tube.example.org/videos/embed/kkGMgK9ZtnKfYAgnEtQxbv?start=30&stop=60",
        ),
    ],
)
def test_each_provider_gets_the_clip_it_understands(
    url: str, start: int, end: int, src: str
) -> None:
    assert external_player(url).src(start, end) == src  # an end before the start is dropped


def test_a_direct_mp4_plays_in_a_video_tag(client: TestClient) -> None:
    doc = get_page(client, "/talks/django-pour-les-faineants-le-retour")
    player = doc.find("div", cls="player")
    assert player.find_all("iframe") == []
    source = player.find("video").find("source")
    assert source.attrs["src"] == (
        "http://www.toulibre.org/pub/2012-11-24-capitole-du-libre/videos/"
        "agopian-django-pour-les-faineants.mp4"
    )
    assert source.attrs["type"] == "video/mp4"


@pytest.mark.parametrize(
    ("slug", "src"),
    [
        (
            "boston-python-meetup-how-to-test-the-hard-stuff",
            "https://player.vimeo.com/video/11980200",
        ),
        (
            "asynchronous-vs-threaded-python",
            "https://archive.org/embed/pyvideo_589___asynchronous-vs-threaded-python",
        ),
    ],
)
def test_other_providers_play_in_their_embeds(client: TestClient, slug: str, src: str) -> None:
    assert get_page(client, f"/talks/{slug}").find("iframe").attrs["src"] == src


def test_the_page_may_frame_the_providers_and_nothing_else(client: TestClient) -> None:
    csp = client.get("/talks/upgrading-django").headers["content-security-policy"]
    frame_src = next(p for p in csp.split("; ") if p.startswith("frame-src"))
    assert frame_src.split()[1:] == [
        "https://www.youtube-nocookie.com",
        "https://player.vimeo.com",
        "https://archive.org",
    ]
    assert "frame-ancestors 'none'" in csp


@pytest.mark.parametrize(
    ("url", "provider", "embed"),
    [
        (
            "https://youtu.be/dqDnB6jKzcE",
            "youtube",
            "https://www.youtube-nocookie.com/embed/dqDnB6jKzcE",
        ),
        ("https://www.youtube.com/embed/dqDnB6jKzcE", "youtube", None),
        ("https://www.youtube.com/playlist?list=PL123", "link", None),
        (
            "https://vimeo.com/channels/staff/134407444",
            "vimeo",
            "https://player.vimeo.com/video/134407444",
        ),
        (
            "https://bittube.video/videos/watch/bc21c871-50a8-4002-bb00-0d57ad607527",
            "peertube",
            "https://bittube.video/videos/embed/bc21c871-50a8-4002-bb00-0d57ad607527",
        ),
        ("https://archive.org/download/x/talk.webm", "file", None),
        ("https://dl.afpy.org/pycon-fr-16/talk.mkv", "link", None),
        ("http://blip.tv/file/3840816", "link", None),
    ],
)
def test_external_players(url: str, provider: str, embed: str | None) -> None:
    player = external_player(url)
    assert player.provider == provider
    if embed is not None:
        assert player.embed_url == embed


def test_peertube_hosts_join_the_frame_sources(catalog: Catalog) -> None:
    import dataclasses

    talk = catalog.talk("upgrading-django")
    peertube = dataclasses.replace(
        talk,
        recording=dataclasses.replace(
            talk.recording, url="https://tube.example.org/w/kkGMgK9ZtnKfYAgnEtQxbv"
        ),
    )
    changed = dataclasses.replace(
        catalog, talks={**catalog.talks, talk.slug: peertube}, digest="peertube-test"
    )
    assert frame_sources(changed).split() == [
        "https://www.youtube-nocookie.com",
        "https://player.vimeo.com",
        "https://archive.org",
        "https://tube.example.org",
    ]
    assert external_player(peertube.recording.url or "").src(30) == (
        "https://tube.example.org/videos/embed/kkGMgK9ZtnKfYAgnEtQxbv?start=30"
    )


def test_home_lists_events_newest_first_and_links_every_year(
    client: TestClient, catalog: Catalog
) -> None:
    doc = get_page(client, "/")
    # Events are cards with covers since issue #11.
    events = [a.attrs["href"] for a in doc.find("ol", cls="event-cards").find_all("a")]
    assert events[:3] == [
        "/events/europython-2022",
        "/events/en-attendant-pyconfr-2020-2021",
        "/events/djangocon-2015",
    ]
    years = [a.attrs["href"] for a in doc.find("nav", cls="years").find_all("a")]
    assert years == [
        "/years/2022",
        "/years/2021",
        "/years/2015",
        "/years/2014",
        "/years/2013",
        "/years/2012",
        "/years/2010",
        "/years/2009",
    ]


def test_home_caps_the_event_list(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browse, "HOME_EVENTS", 4)  # the home page is built there (issue #11)
    page = browse.home_page(catalog, CardFacts.plain(catalog))
    assert len(page.events) == 4 and page.more_events == 6
    assert [c.event.slug for c in page.events] == [
        e.slug for e in catalog.events_newest_first()[:4]
    ]


def test_year_page(client: TestClient) -> None:
    doc = get_page(client, "/years/2014")
    assert doc.find("h1").text() == "Events in 2014"
    events = [a.attrs["href"] for a in doc.find("ul", cls="events").find_all("a")]
    assert events == ["/events/djangocon-2014", "/events/pyohio-2014", "/events/europython-2014"]
    nav = {a.attrs["rel"]: a.attrs["href"] for a in doc.find("nav", cls="pagination").find_all("a")}
    assert nav == {"prev": "/years/2015", "next": "/years/2013"}
    body = client.get("/api/years/2014").json()
    assert [e["slug"] for e in body["events"]] == [
        "djangocon-2014",
        "pyohio-2014",
        "europython-2014",
    ]
    assert body["events"][1]["talks"] == 1 and (body["newer"], body["older"]) == (2015, 2013)


@pytest.mark.parametrize("year", ["1999", "20144", "abcd", "２０１４"])
def test_a_year_without_events_is_not_found(client: TestClient, year: str) -> None:
    assert client.get(f"/years/{year}").status_code == 404
    assert client.get(f"/api/years/{year}").status_code == 404


def test_imported_event_page_shows_days_not_a_made_up_time_zone(client: TestClient) -> None:
    doc = get_page(client, "/events/europython-2022")
    assert "times in" not in doc.find("header", cls="page-head").text()
    card = doc.find("article", cls="talk-card")
    assert card.find("time").attrs["datetime"] == "2022-07-11"
    assert talk_slugs(doc) == [
        "choosing-the-right-database-for-your-next-project-presented-by-marc-andre"
    ]
