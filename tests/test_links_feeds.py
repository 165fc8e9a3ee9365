"""Atom feeds and the video sitemap, read by feedparser (a real feed reader) and ElementTree."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path

import feedparser
import pytest
from s3server import PLACEHOLDER, isolate_env
from starlette.testclient import TestClient
from test_security import EVIL_YAML

from vod.config import Settings
from vod.links.feeds import clean
from vod.web.app import create_app

SAMPLE = Path(__file__).parent / "data" / "catalog"
BASE = "http://testserver"
STORED = "distributed-storage-without-tears"  # its recording is in the media folder here
STORED_KEY = f"testconf-2024/{STORED}.mp4"
EXTERNAL_MEDIA = "https://videos.example.org/testconf-2024/streaming-from-elsewhere.m3u8"
NEWEST_FIRST = [
    "streaming-from-elsewhere",  # 2024-05-15 11:00
    STORED,  # 2024-05-15 10:00
    "observability-for-rubber-ducks",  # 2024-05-14 09:30
    "testconf-2024-keynote",  # 2024-05-14 09:00
    "testconf-2024-open-discussion",  # untimed: the event's first day
    "escaping-untrusted-text",  # 2023-09-21 10:00
    "continuous-deployment-for-imaginary-services",  # 2023-09-21 09:00
    "testconf-2023-lightning-talks",  # untimed
]
# Issue #11: feeds list real recordings only, and the sitemap lists only those as videos. Here
# every talk's recording is in the media folder (or external) but this one's: it plays the
# placeholder clip.
PLACEHOLDER_TALK = "escaping-untrusted-text"
RECORDED = [s for s in NEWEST_FIRST if s != PLACEHOLDER_TALK]
KEYS = {
    "continuous-deployment-for-imaginary-services": "testconf-2023/continuous-deployment.mp4",
    "testconf-2023-lightning-talks": "testconf-2023/testconf-2023-lightning-talks.mp4",
    "observability-for-rubber-ducks": "testconf-2024/observability-for-rubber-ducks.mp4",
    "testconf-2024-keynote": "testconf-2024/testconf-2024-keynote.mp4",
    "testconf-2024-open-discussion": "testconf-2024/testconf-2024-open-discussion.mp4",
    STORED: STORED_KEY,
}
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
VIDEO = "{http://www.google.com/schemas/sitemap-video/1.1}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("links-feeds")
    record(root / "media", KEYS.values())
    settings = Settings(catalog=SAMPLE, index_dir=root / "index", media_dir=root / "media")
    with TestClient(create_app(settings)) as client:
        yield client


def record(media: Path, keys: Iterable[str]) -> None:
    """Put a recording (the sample clip) in `media` at each key."""
    for key in keys:
        (media / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PLACEHOLDER, media / key)


def read_feed(client: TestClient, path: str) -> feedparser.FeedParserDict:
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content, response_headers=dict(response.headers))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def slugs(feed: feedparser.FeedParserDict) -> list[str]:
    return [e.link.removeprefix(f"{BASE}/talks/") for e in feed.entries]


def test_site_feed_lists_every_recording_newest_first(sample: TestClient) -> None:
    feed = read_feed(sample, "/feed.xml")
    assert feed.feed.title == "vod: latest recordings"
    assert feed.feed.link == f"{BASE}/"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [f"{BASE}/feed.xml"]
    assert slugs(feed) == RECORDED  # never the placeholder (issue #11)
    assert feed.feed.updated == "2024-05-15T11:00:00-04:00"


def test_entry_links_the_talk_and_carries_its_abstract(sample: TestClient) -> None:
    entry = read_feed(sample, "/feed.xml").entries[2]
    assert entry.id == entry.link == f"{BASE}/talks/observability-for-rubber-ducks"
    assert entry.title == "Observability for Rubber Ducks"
    assert entry.summary == (
        "Tracing, metrics and logs for a debugging companion that never answers back."
    )
    assert entry.published == "2024-05-14T09:30:00-04:00"
    assert [a.name for a in entry.authors] == ["Bob Placeholder", "José Müller-Test"]
    assert [t.term for t in entry.tags] == ["observability"]
    [enclosure] = entry.enclosures  # its recording is in the media folder, which vod serves
    assert enclosure.href == f"{BASE}/media/{KEYS['observability-for-rubber-ducks']}"


def test_enclosures_only_where_the_recording_is_public(sample: TestClient) -> None:
    entries = {
        e.link.removeprefix(f"{BASE}/talks/"): e for e in read_feed(sample, "/feed.xml").entries
    }
    [external] = entries["streaming-from-elsewhere"].enclosures
    assert (external.href, external.type) == (EXTERNAL_MEDIA, "application/vnd.apple.mpegurl")
    [local] = entries[STORED].enclosures
    assert (local.href, local.type) == (f"{BASE}/media/{STORED_KEY}", "video/mp4")
    assert sample.get(f"/media/{STORED_KEY}").status_code == 200
    # A talk whose recording is not in the store is not a recording: not in the feed at all.
    assert PLACEHOLDER_TALK not in entries
    others = [s for s in RECORDED if s != "streaming-from-elsewhere"]
    assert [entries[s].enclosures[0].href for s in others] == [
        f"{BASE}/media/{KEYS[s]}" for s in others
    ]


def test_untitled_talk_entry_says_so(sample: TestClient) -> None:
    entry = read_feed(sample, "/feed.xml").entries[-1]
    assert entry.title == "Title not published (TestConf 2023)"
    assert [a.name for a in entry.authors] == ["Name not published"]


def test_event_feed(sample: TestClient) -> None:
    feed = read_feed(sample, "/events/testconf-2023/feed.xml")
    assert feed.feed.title == "TestConf 2023: recordings"
    assert feed.feed.link == f"{BASE}/events/testconf-2023"
    assert slugs(feed) == RECORDED[5:]  # the placeholder talk of this event is left out


def test_speaker_feed_has_live_and_recording_appearances(sample: TestClient) -> None:
    feed = read_feed(sample, "/speakers/jose-muller-test/feed.xml")
    assert feed.feed.title == "José Müller-Test: talks"
    assert slugs(feed) == [STORED, "observability-for-rubber-ducks"]


def test_feed_without_presenters_names_the_event(sample: TestClient) -> None:
    entry = read_feed(sample, "/events/testconf-2024/feed.xml").entries[-1]
    assert entry.link.endswith("/testconf-2024-open-discussion")
    assert [a.name for a in entry.authors] == ["TestConf 2024"]


@pytest.mark.parametrize(
    "path", ["/events/no-such-event/feed.xml", "/speakers/no-such-person/feed.xml"]
)
def test_unknown_feed_is_404(sample: TestClient, path: str) -> None:
    assert sample.get(path).status_code == 404


def test_feeds_answer_304_to_a_reader_that_has_them(sample: TestClient) -> None:
    first = sample.get("/feed.xml")
    # Private without VOD_BASE_URL: its links come from the Host header (issue #10, item 7).
    assert first.headers["cache-control"].startswith("private")
    again = sample.get("/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_abstract_markup_stays_text(tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text(EVIL_YAML, encoding="utf-8")
    record(tmp_path / "m", ["evil-event/evil-talk.mp4"])
    settings = Settings(
        catalog=tmp_path / "evil.yaml", index_dir=tmp_path / "i", media_dir=tmp_path / "m"
    )
    with TestClient(create_app(settings)) as client:
        raw = client.get("/feed.xml").text
        feed = read_feed(client, "/feed.xml")
        sitemap = client.get("/sitemap.xml")
    assert "<script>" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    entry = next(e for e in feed.entries if e.link.endswith("/evil-talk"))
    assert entry.summary_detail.type == "text/plain"
    assert "xylophones <script>alert(1)</script> and" in entry.summary
    assert entry.title == 'Evil talk <script>alert(1)</script> "onmouseover=alert(1) x="'
    ET.fromstring(sitemap.content)  # well-formed


def test_feeds_publish_no_presigned_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With recordings in S3 there is no public URL to enclose: only external files are."""
    isolate_env(monkeypatch, tmp_path)
    settings = Settings(
        catalog=SAMPLE,
        index_dir=tmp_path / "index",
        media_dir=tmp_path / "media",
        s3_bucket="never-contacted",
    )
    with TestClient(create_app(settings)) as client:
        feed = read_feed(client, "/feed.xml")
        sitemap = ET.fromstring(client.get("/sitemap.xml").content)
    hrefs = [enc.href for e in feed.entries for enc in e.enclosures]
    assert hrefs == [EXTERNAL_MEDIA]
    content = [c.text for c in sitemap.iter(f"{VIDEO}content_loc")]
    assert content == [EXTERNAL_MEDIA]


def test_sitemap_lists_pages_and_videos(sample: TestClient) -> None:
    response = sample.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{SITEMAP}urlset"
    locs = [u.findtext(f"{SITEMAP}loc", "") for u in root]
    talks = [loc.removeprefix(f"{BASE}/talks/") for loc in locs if "/talks/" in loc]
    assert talks == NEWEST_FIRST  # every talk's page, placeholder or not
    assert f"{BASE}/" in locs and f"{BASE}/events/testconf-2024" in locs
    assert f"{BASE}/speakers/ada-example" in locs
    videos = {
        u.findtext(f"{SITEMAP}loc", "").removeprefix(f"{BASE}/talks/"): video
        for u in root
        if (video := u.find(f"{VIDEO}video")) is not None
    }
    assert list(videos) == RECORDED  # a placeholder is never a video (issue #11)
    for slug, video in videos.items():
        assert video.findtext(f"{VIDEO}thumbnail_loc") == f"{BASE}/cards/{slug}.png"
        assert video.findtext(f"{VIDEO}player_loc") == f"{BASE}/embed/{slug}"
        assert video.findtext(f"{VIDEO}title") and video.findtext(f"{VIDEO}description")
        assert video.findtext(f"{VIDEO}publication_date")
    keynote = videos["continuous-deployment-for-imaginary-services"]
    assert keynote.findtext(f"{VIDEO}duration") == "2700"
    assert keynote.findtext(f"{VIDEO}uploader") == "Ada Example"
    assert [t.text for t in keynote.iter(f"{VIDEO}tag")] == ["deployment", "ci"]
    assert videos[STORED].findtext(f"{VIDEO}content_loc") == f"{BASE}/media/{STORED_KEY}"
    assert videos["streaming-from-elsewhere"].findtext(f"{VIDEO}content_loc") == EXTERNAL_MEDIA


def test_feed_urls_follow_vod_base_url(tmp_path: Path) -> None:
    record(tmp_path / "media", KEYS.values())
    settings = Settings(
        catalog=SAMPLE,
        index_dir=tmp_path / "index",
        media_dir=tmp_path / "media",
        base_url="https://talks.example.org",
    )
    with TestClient(create_app(settings), base_url="https://talks.example.org") as client:
        feed = read_feed(client, "/events/testconf-2023/feed.xml")
    assert feed.feed.id == "https://talks.example.org/events/testconf-2023/feed.xml"
    assert feed.entries
    assert all(e.link.startswith("https://talks.example.org/talks/") for e in feed.entries)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [("a\x00b\x0bc\x1fd", "abcd"), ("tab\tnew\nline\r", "tab\tnew\nline\r"), ("é😀", "é😀")],
)
def test_characters_xml_cannot_carry_are_dropped(text: str, cleaned: str) -> None:
    assert clean(text) == cleaned


def test_speaker_feed_leaves_out_the_placeholder_too(sample: TestClient) -> None:
    # Every Atom feed announces real recordings only (issue #11), a speaker's included.
    feed = read_feed(sample, "/speakers/bob-placeholder/feed.xml")
    assert PLACEHOLDER_TALK not in slugs(feed)
