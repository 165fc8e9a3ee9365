"""Atom feeds (site, event, speaker) and the sitemap with Google's video extension.

Built with xml.etree, which escapes every text and attribute, so catalog text can never
become markup; characters XML 1.0 forbids are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from vod import __version__
from vod.catalog import UNTITLED
from vod.links.previews import SITE_NAME
from vod.links.share import names, preview_image
from vod.listing import plays_here
from vod.urls import prefetch_media, public_recording_url

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk
    from vod.storage import Recordings
    from vod.urls import SiteUrls

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
VIDEO_NS = "http://www.google.com/schemas/sitemap-video/1.1"
FEED_LIMIT = 100  # entries per feed: the newest recordings
SITEMAP_LIMIT = 50_000  # URLs one sitemap file may list (sitemaps.org)
VIDEO_DESCRIPTION_CHARS = 2048  # Google's limit for video:description
VIDEO_MAX_DURATION = 28_800  # Google accepts durations from 1 s to 8 h
VIDEO_TAGS = 32  # Google reads at most 32 video:tag elements
# Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ET.register_namespace("video", VIDEO_NS)


@dataclass(frozen=True)
class FeedInfo:
    """What a feed is about: its title, its own URL and the page it follows."""

    title: str
    self_url: str
    page_url: str
    subtitle: str = ""


def clean(text: str | None) -> str:
    """Drop characters XML cannot carry (NUL and most control characters)."""
    return _NOT_XML.sub("", text or "")


def recorded_at(talk: Talk, catalog: Catalog) -> datetime:
    """When a talk was given: its start, else midnight of its event's first day, local time."""
    if talk.start is not None:
        return talk.start if talk.start.tzinfo else talk.start.replace(tzinfo=UTC)
    event = catalog.events[talk.event]
    return datetime.combine(event.start_date, time(0), tzinfo=ZoneInfo(event.timezone))


def newest_first(talks: Iterable[Talk], catalog: Catalog) -> list[Talk]:
    """Order talks newest first; talks of one moment keep their agenda order."""
    return sorted(
        talks,
        key=lambda t: (recorded_at(t, catalog).timestamp(), t.event, -t.position),
        reverse=True,
    )


def _document(root: ET.Element) -> bytes:
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def atom_feed(
    info: FeedInfo,
    talks: Iterable[Talk],
    catalog: Catalog,
    recordings: Recordings,
    urls: SiteUrls,
) -> bytes:
    """Build an Atom feed of `talks`, newest first, each linking to its page and recording."""
    # A talk its speakers asked not to be recorded is never announced (issue #10 item 9).
    entries = newest_first((t for t in talks if t.published), catalog)[:FEED_LIMIT]
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "title", info.title)
    if info.subtitle:
        _sub(feed, "subtitle", info.subtitle)
    _sub(feed, "id", info.self_url)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=info.self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=info.page_url)
    updated = max((recorded_at(t, catalog) for t in entries), default=_EPOCH)
    _sub(feed, "updated", _stamp(updated))
    _sub(feed, "generator", SITE_NAME, version=__version__)
    prefetch_media(entries, recordings)
    for talk in entries:
        _entry(feed, talk, catalog, recordings, urls)
    return _document(feed)


def _entry(
    feed: ET.Element, talk: Talk, catalog: Catalog, recordings: Recordings, urls: SiteUrls
) -> None:
    event = catalog.events[talk.event]
    page = urls.talk(talk.slug)
    entry = _sub(feed, "entry")
    _sub(entry, "id", page)
    _sub(entry, "title", talk.title or f"{UNTITLED} ({event.name})", type="text")
    _sub(entry, "link", rel="alternate", type="text/html", href=page)
    media = public_recording_url(talk, recordings, urls)
    if media:
        _sub(entry, "link", rel="enclosure", type=talk.recording.media_type, href=media)
    when = _stamp(recorded_at(talk, catalog))
    _sub(entry, "published", when)
    _sub(entry, "updated", when)
    presenters = catalog.people(talk.recording_speakers)
    for person in presenters:
        author = _sub(entry, "author")
        _sub(author, "name", person.display_name)
        _sub(author, "uri", urls.speaker(person.slug))
    if not presenters:  # Atom needs an author; the event is the honest one
        _sub(_sub(entry, "author"), "name", event.name)
    summary = talk.abstract or f"Recording of a talk at {event.name}."
    _sub(entry, "summary", summary, type="text")
    for tag in talk.tags:
        _sub(entry, "category", term=tag)


def sitemap(
    catalog: Catalog,
    recordings: Recordings,
    urls: SiteUrls,
    unrecorded: frozenset[str] = frozenset(),
) -> bytes:
    """List every page, with a video:video entry for each talk whose recording plays here.

    A `do_not_record` talk is left out: its page has no video to announce. Talks in
    `unrecorded` play a placeholder clip: they are listed as pages, never as videos
    (issue #11).
    """
    root = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    count = 0

    def add(loc: str) -> ET.Element:
        nonlocal count
        count += 1
        url = _sub(root, "url")
        _sub(url, "loc", loc)
        return url

    add(urls.site_root())
    prefetch_media(catalog.talks.values(), recordings)
    for event in catalog.events_newest_first():
        add(urls.url("event", event=event.slug))
    for talk in newest_first((t for t in catalog.talks.values() if t.published), catalog):
        if count >= SITEMAP_LIMIT:
            break
        url = add(urls.talk(talk.slug))
        if plays_here(talk, unrecorded):
            _video(url, talk, catalog, recordings, urls)
    for slug in sorted(catalog.speakers):
        if count >= SITEMAP_LIMIT:
            break
        add(urls.speaker(slug))
    return _document(root)


def _video(
    url: ET.Element, talk: Talk, catalog: Catalog, recordings: Recordings, urls: SiteUrls
) -> None:
    event = catalog.events[talk.event]
    video = _sub(url, f"{{{VIDEO_NS}}}video")
    v = f"{{{VIDEO_NS}}}"
    _sub(video, v + "thumbnail_loc", preview_image(talk, recordings, urls).url)
    _sub(video, v + "title", f"{talk.display_title} · {event.name}")
    description = " ".join((talk.abstract or f"Recording of a talk at {event.name}.").split())
    _sub(video, v + "description", description[:VIDEO_DESCRIPTION_CHARS])
    media = public_recording_url(talk, recordings, urls)
    if media:
        _sub(video, v + "content_loc", media)
    _sub(video, v + "player_loc", urls.embed(talk.slug))
    duration = talk.recording.duration
    if duration and 1 <= duration <= VIDEO_MAX_DURATION:
        _sub(video, v + "duration", str(duration))
    _sub(video, v + "publication_date", _stamp(recorded_at(talk, catalog)))
    people = names(catalog.people(talk.recording_speakers))
    if people:
        _sub(video, v + "uploader", people)
    for tag in talk.tags[:VIDEO_TAGS]:
        _sub(video, v + "tag", tag)
