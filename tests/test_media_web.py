"""Pages, the JSON API and podcast feeds use what `vod media` made (issue #14): posters,
durations, the seek preview, downloads and audio enclosures, read from the media manifest."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from clips import make_clip, make_corrupt, requires_ffmpeg
from media_catalog import key, write_catalog
from starlette.testclient import TestClient

from vod.catalog import load_catalog
from vod.config import Settings
from vod.media.live import MediaFollower
from vod.media.pipeline import MediaOptions, process_talks
from vod.media.store import LocalMediaStore
from vod.storage import LocalStorage
from vod.web.app import create_app
from vod.web.state import LiveCatalog

pytestmark = requires_ffmpeg
BASE = "https://talks.example.org"
DOWNLOAD_KEYS = {"kind", "url", "mime", "bytes"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    """The media catalog with three recordings processed, one corrupt, served in-process."""
    root = tmp_path_factory.mktemp("media-web")
    catalog_dir = write_catalog(root / "catalog").parent
    media = root / "media"
    clip = make_clip(root / "clip.mp4", seconds=6, black_lead=3)
    for slug in ("black-start", "chosen-poster", "quiet-talk"):
        (media / key(slug)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, media / key(slug))
    make_corrupt(media / key("broken-talk"), clip)
    catalog = load_catalog(catalog_dir)
    process_talks(
        LocalMediaStore(LocalStorage(media)), list(catalog.talks.values()), MediaOptions()
    )
    settings = Settings(
        catalog=catalog_dir, index_dir=root / "index", media_dir=media, base_url=BASE
    )
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client, media


def test_talk_page_has_poster_seek_preview_and_duration(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    page = client.get("/talks/black-start")
    assert page.status_code == 200
    html = page.text
    assert 'poster="/media/mediaconf/black-start.poster.jpg"' in html
    assert 'data-sprite="/media/mediaconf/black-start.thumbs.jpg"' in html
    assert 'data-thumb-interval="1.0" data-thumb-count="5"' in html
    assert (
        '<track kind="metadata" label="thumbnails" src="/media/mediaconf/black-start.thumbs.vtt">'
        in html
    )
    assert "<dt>Length</dt><dd>6 s</dd>" in html  # the catalog gives none: ffprobe's
    assert client.get("/media/mediaconf/black-start.thumbs.jpg").status_code == 200


def test_talk_page_lists_downloads_with_format_and_size(site: tuple[TestClient, Path]) -> None:
    client, media = site
    html = client.get("/talks/black-start").text
    section = html.split('<section aria-labelledby="downloads-h" class="downloads">', 1)[1]
    section = section.split("</section>", 1)[0]
    original = '<a href="/media/mediaconf/black-start.mp4" type="video/mp4" download>'
    assert original + "Original recording</a>" in section
    assert "<td>MP4 · H.264/AAC · 320×180</td>" in section
    assert (
        '<a href="/media/mediaconf/black-start.audio.m4a" type="audio/mp4" download>Audio only</a>'
        in section
    )
    assert "<td>M4A · AAC · audio only, loudness-normalised</td>" in section
    size = (media / key("black-start")).stat().st_size
    assert f"<td>{size / 1000:.0f} KB</td>" in section
    assert 'href="/events/mediaconf/podcast.xml"' in section


def test_talks_without_media_show_no_poster_or_downloads(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    for slug in ("not-uploaded", "broken-talk", "elsewhere"):
        html = client.get(f"/talks/{slug}").text
        assert "poster=" not in html and "downloads-h" not in html and "data-sprite" not in html


def test_api_talk_gives_duration_poster_and_downloads(site: tuple[TestClient, Path]) -> None:
    client, media = site
    body: dict[str, Any] = client.get("/api/talks/black-start").json()
    assert body["duration_s"] == 6
    assert body["poster"] == f"{BASE}/media/mediaconf/black-start.poster.jpg"
    assert [set(d) for d in body["downloads"]] == [DOWNLOAD_KEYS, DOWNLOAD_KEYS]
    original, audio = body["downloads"]
    assert original == {
        "kind": "original",
        "url": f"{BASE}/media/mediaconf/black-start.mp4",
        "mime": "video/mp4",
        "bytes": (media / key("black-start")).stat().st_size,
    }
    assert audio["kind"] == "audio" and audio["mime"] == "audio/mp4"
    assert audio["bytes"] == (media / "mediaconf" / "black-start.audio.m4a").stat().st_size
    quiet = client.get("/api/talks/quiet-talk").json()
    assert quiet["duration_s"] == 3600  # the catalog's own duration wins
    missing = client.get("/api/talks/not-uploaded").json()
    assert (missing["duration_s"], missing["poster"], missing["downloads"]) == (None, None, [])


def _podcast(client: TestClient, path: str) -> feedparser.FeedParserDict:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(response.content, response_headers=dict(response.headers))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    return feed


@pytest.mark.parametrize("path", ["/podcast.xml", "/events/mediaconf/podcast.xml"])
def test_podcast_feeds_have_audio_enclosures(site: tuple[TestClient, Path], path: str) -> None:
    client, media = site
    feed = _podcast(client, path)
    # Apple's current values; feedparser only knows the old "yes"/"clean", so read the text.
    assert "<itunes:explicit>false</itunes:explicit>" in client.get(path).text
    assert feed.feed.tags[0].term == "Technology"
    assert feed.feed.image.href == f"{BASE}/media/mediaconf/black-start.poster.jpg"
    links = {e.link.removeprefix(f"{BASE}/talks/") for e in feed.entries}
    assert links == {"black-start", "chosen-poster", "quiet-talk"}
    first = next(e for e in feed.entries if e.link.endswith("/black-start"))
    assert first.title == "A talk that starts in black"
    assert first.id == f"{BASE}/talks/black-start"
    assert first.itunes_duration == "6"
    (enclosure,) = first.enclosures
    assert enclosure.type == "audio/mp4"
    audio = media / "mediaconf" / "black-start.audio.m4a"
    assert int(enclosure.length) == audio.stat().st_size
    assert enclosure.href == f"{BASE}/media/mediaconf/black-start.audio.m4a"
    fetched = client.get(enclosure.href.removeprefix(BASE))
    assert fetched.status_code == 200 and fetched.content == audio.read_bytes()


def test_pages_link_the_podcasts(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    event = client.get("/events/mediaconf").text
    assert (
        '<link rel="alternate" type="application/rss+xml" href="/events/mediaconf/podcast.xml"'
        in event
    )
    home = client.get("/").text
    assert '<link rel="alternate" type="application/rss+xml" href="/podcast.xml"' in home
    assert client.get("/events/nope/podcast.xml").status_code == 404


def test_pages_never_ask_the_store_for_media(
    site: tuple[TestClient, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = site
    calls: list[str] = []
    original = LocalStorage.read_text

    def counting(self: LocalStorage, k: str, limit: int) -> str | None:
        calls.append(k)
        return original(self, k, limit)

    monkeypatch.setattr(LocalStorage, "read_text", counting)
    for path in ("/talks/black-start", "/api/talks/black-start", "/podcast.xml", "/"):
        assert client.get(path).status_code == 200
    assert calls == []


def test_a_new_manifest_reaches_a_running_site(tmp_path: Path) -> None:
    catalog_dir = write_catalog(tmp_path / "catalog").parent
    media = tmp_path / "media"
    catalog = load_catalog(catalog_dir)
    follower = MediaFollower(LocalStorage(media), every=0.0)
    follower.load()
    live = LiveCatalog(catalog_dir, catalog, reloadable=False, media=follower)
    assert live.current.talk("black-start").recording.media is None
    make_clip(media / key("black-start"), seconds=2)
    process_talks(
        LocalMediaStore(LocalStorage(media)), [catalog.talk("black-start")], MediaOptions()
    )
    changed = threading.Event()
    original = live._media_changed

    def media_changed() -> None:
        original()
        changed.set()

    live._media_changed = media_changed  # type: ignore[method-assign]
    live.follow(catalog.digest)
    assert changed.wait(timeout=60)
    talk = live.current.talk("black-start")
    assert talk.recording.media is not None and talk.recording.duration == 2
    assert live.current.media_digest and live.current.digest == catalog.digest


def test_renditions_give_a_quality_menu(tmp_path: Path) -> None:
    catalog_dir = write_catalog(tmp_path / "catalog").parent
    media = tmp_path / "media"
    make_clip(media / key("black-start"), seconds=2, size="640x360")
    catalog = load_catalog(catalog_dir)
    process_talks(
        LocalMediaStore(LocalStorage(media)),
        [catalog.talk("black-start")],
        MediaOptions(renditions=("240p",)),
    )
    settings = Settings(catalog=catalog_dir, index_dir=tmp_path / "index", media_dir=media)
    with TestClient(create_app(settings)) as client:
        html = client.get("/talks/black-start").text
        original = '{"label": "Original", "src": "/media/mediaconf/black-start.mp4"}'
        small = '{"label": "240p", "src": "/media/mediaconf/black-start.240p.mp4"}'
        assert f"data-qualities='[{original}, {small}]'" in html
        assert "<td>MP4 · H.264/AAC · 426×240</td>" in html
        assert "data-qualities" not in client.get("/talks/quiet-talk").text


def test_cards_show_the_small_poster(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    event = client.get("/events/mediaconf").text
    assert '<img src="/media/mediaconf/black-start.poster-small.jpg"' in event
    assert "/cards/not-uploaded.png" in event  # no recording: its title card, as before
    listing = client.get("/talks").text
    assert '<img src="/media/mediaconf/quiet-talk.poster-small.jpg"' in listing
