"""Podcast feeds: RSS 2.0 with the iTunes tags podcast apps require, one episode per talk whose
audio-only file `vod media` made (issue #14).

Episodes link their audio by a URL that does not expire (the local media folder, or S3 behind
VOD_MEDIA_URL): a podcast app downloads episodes long after it read the feed, so presigned S3
URLs are never published here, as in the Atom feeds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from vod import __version__
from vod.catalog import UNTITLED
from vod.links.feeds import FEED_LIMIT, FeedInfo, clean, newest_first, recorded_at
from vod.links.previews import SITE_NAME
from vod.links.share import names

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk
    from vod.media.entry import Download
    from vod.storage import Recordings
    from vod.urls import SiteUrls

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"
CATEGORY = "Technology"
DESCRIPTION_CHARS = 4000  # Apple's limit for an episode's description

ET.register_namespace("itunes", ITUNES_NS)
ET.register_namespace("atom", ATOM_NS)


def stable_media_url(key: str | None, recordings: Recordings, urls: SiteUrls) -> str | None:
    """Return a public URL of a file `vod media` published, when it never expires."""
    storage = recordings.storage
    if key is None or not storage.stable_urls:
        return None
    try:
        return urls.absolute(storage.url_for(key))
    except ValueError:  # an unsafe key: never published
        return None


def audio_download(talk: Talk) -> Download | None:
    """The talk's audio-only file, when `vod media` made one."""
    media = talk.recording.media
    return media.download("audio") if media is not None else None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


def podcast_feed(
    info: FeedInfo,
    talks: Iterable[Talk],
    catalog: Catalog,
    recordings: Recordings,
    urls: SiteUrls,
    author: str,
) -> bytes:
    """Build an RSS 2.0 podcast of the talks with an audio-only file, newest first."""
    episodes: list[tuple[Talk, Download, str]] = []
    # A do_not_record talk has no recording, so no audio; it is left out by name all the same.
    for talk in newest_first((t for t in talks if t.published), catalog):
        audio = audio_download(talk)
        url = stable_media_url(audio.key if audio else None, recordings, urls)
        if audio is not None and url is not None:
            episodes.append((talk, audio, url))
        if len(episodes) >= FEED_LIMIT:
            break
    it = f"{{{ITUNES_NS}}}"
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", info.title)
    _sub(channel, "link", info.page_url)
    _sub(channel, "description", info.subtitle or info.title)
    _sub(channel, f"{{{ATOM_NS}}}link", rel="self", type="application/rss+xml", href=info.self_url)
    _sub(channel, "generator", f"{SITE_NAME} {__version__}")
    if episodes:
        _sub(channel, "lastBuildDate", _rfc822(recorded_at(episodes[0][0], catalog)))
    _sub(channel, it + "author", author)
    _sub(channel, it + "summary", info.subtitle or info.title)
    _sub(channel, it + "type", "episodic")
    _sub(channel, it + "explicit", "false")
    ET.SubElement(channel, it + "category", {"text": CATEGORY})  # an attribute called text
    cover = next(
        (stable_media_url(t.recording.media.poster, recordings, urls) for t, _, _ in episodes
         if t.recording.media is not None and t.recording.media.poster),
        None,
    )  # fmt: skip
    if cover:
        _sub(channel, it + "image", href=cover)
        image = _sub(channel, "image")
        _sub(image, "url", cover)
        _sub(image, "title", info.title)
        _sub(image, "link", info.page_url)
    for talk, audio, url in episodes:
        _episode(channel, talk, audio, url, catalog, recordings, urls)
    body = ET.tostring(rss, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def _episode(
    channel: ET.Element,
    talk: Talk,
    audio: Download,
    url: str,
    catalog: Catalog,
    recordings: Recordings,
    urls: SiteUrls,
) -> None:
    it = f"{{{ITUNES_NS}}}"
    event = catalog.events[talk.event]
    page = urls.talk(talk.slug)
    item = _sub(channel, "item")
    _sub(item, "title", talk.title or f"{UNTITLED} ({event.name})")
    _sub(item, "link", page)
    _sub(item, "guid", page, isPermaLink="true")
    _sub(item, "pubDate", _rfc822(recorded_at(talk, catalog)))
    summary = talk.abstract or f"Recording of a talk at {event.name}."
    _sub(item, "description", summary[:DESCRIPTION_CHARS])
    _sub(item, "enclosure", url=url, length=str(audio.bytes), type=audio.mime)
    if talk.duration:
        _sub(item, it + "duration", str(talk.duration))
    people = names(catalog.people(talk.recording_speakers))
    _sub(item, it + "author", people or event.name)
    _sub(item, it + "explicit", "false")
    _sub(item, it + "episodeType", "full")
    media = talk.recording.media
    poster = stable_media_url(media.poster if media else None, recordings, urls)
    if poster:
        _sub(item, it + "image", href=poster)
