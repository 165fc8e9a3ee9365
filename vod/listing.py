"""Talk cards: a talk as the home, event, speaker, search and talk pages list it.

Beyond the catalog a card knows its thumbnail and whether its recording exists (CardFacts).
Both come from what the catalog, the media manifest and the index hold once loaded, so a
listing of 48 cards asks the recording store nothing (issue #11).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from vod.providers import external_player
from vod.thumbnails import Thumbnails, for_catalog
from vod.timecode import format_clock, format_slot

if TYPE_CHECKING:
    from vod.catalog import Catalog, Event, Link, Speaker, Talk
    from vod.index import SearchIndex
    from vod.storage import Storage
    from vod.thumbnails import Thumbnail

# What a card says about the recording: none (a real video), a placeholder clip, or a real
# recording that only plays elsewhere (the event's own site).
RecordingBadge = Literal["video", "placeholder", "elsewhere", "not-recorded"]
_VIDEO_WORDS = ("video", "watch", "recording")


@dataclass(frozen=True)
class TalkCard:
    """A talk as listed on the home, event, speaker and search pages."""

    talk: Talk
    event: Event
    speakers: tuple[Speaker, ...]
    recording_speakers: tuple[Speaker, ...]
    when: str  # "10:05–10:25 PDT", or "" when the time is not published
    teaser: str  # for a talk without a published title: the start of its abstract
    thumb: Thumbnail | None = None
    length: str = ""  # the recording's length as a clock ("24:13"), when known
    day: str = ""  # "Jun 12, 2024": the talk's day, else its event's first day
    badge: RecordingBadge = "video"
    elsewhere: str = ""  # for badge "elsewhere": the host the real recording plays on
    pending: bool = False  # its event is upcoming or recent: unpublished facts may still come

    @property
    def watch_elsewhere(self) -> Link | None:
        """The talk's video page on its event's own site, when the catalog links one."""
        return event_site_video(self.talk, self.event)

    @property
    def elsewhere_host(self) -> str:
        return link_host(self.watch_elsewhere)


def talk_card(catalog: Catalog, talk: Talk, facts: CardFacts) -> TalkCard:
    """Build a talk's card: people, what its recording is, thumbnail, time and length."""
    event = catalog.events[talk.event]
    badge = recording_badge(talk, event, facts)
    day = talk.day or event.start_date
    return TalkCard(
        talk=talk,
        event=event,
        speakers=tuple(catalog.people(talk.speakers)),
        recording_speakers=tuple(catalog.people(talk.recording_speakers)),
        badge=badge,
        elsewhere=link_host(event_site_video(talk, event)) if badge == "elsewhere" else "",
        pending=is_pending(event),
        teaser=_teaser(talk),
        thumb=facts.thumbnails[talk.slug],
        when=format_slot(talk.start, talk.end),
        length=format_clock(talk.recording.duration) if talk.recording.duration else "",
        day=f"{day:%b} {day.day}, {day.year}",
    )


TEASER_CHARS = 110


def _teaser(talk: Talk) -> str:
    if talk.title or not talk.abstract:
        return ""
    text = " ".join(talk.abstract.split())
    if len(text) <= TEASER_CHARS:
        return text
    return text[:TEASER_CHARS].rsplit(" ", 1)[0] + "…"


# How long after an event its missing facts are still "not published yet" (issue #11); later
# the event is an archive, and a missing time or session is simply not recorded.
PENDING_DAYS = 90


def is_pending(event: Event, today: date | None = None) -> bool:
    """Tell whether an event is upcoming or ended less than PENDING_DAYS ago."""
    today = today or date.today()
    return (today - event.end_date).days < PENDING_DAYS


@dataclass(frozen=True)
class CardFacts:
    """Thumbnails of a catalog and the talks the index found no recording for."""

    thumbnails: Thumbnails
    # Talks whose recording key was not in the store when the index was built (they play the
    # placeholder clip); empty when no index says so, and then the catalog is trusted.
    unrecorded: frozenset[str] = frozenset()

    @classmethod
    def plain(cls, catalog: Catalog) -> CardFacts:
        """Facts from the catalog alone: no index; the app's thumbnails when it made them."""
        for kept_catalog, _, _, table in list(_tables):
            if kept_catalog is catalog:
                return cls(table)
        return cls(for_catalog(catalog))


_TABLES_KEPT = 4  # catalogs (and stores) whose thumbnails are kept: the live one, a reload
_tables: list[tuple[Catalog, Storage, int, Thumbnails]] = []
_tables_lock = threading.Lock()
_NO_POSTERS: Mapping[str, str] = {}


def thumbnails_for(
    catalog: Catalog, storage: Storage, media_posters: Mapping[str, str] | None = None
) -> Thumbnails:
    """The thumbnails of a catalog served from `storage`, kept; each is resolved when first listed.

    Store keys become URLs only on a store with stable URLs (a local folder, a CDN): a
    presigned URL would expire inside pages a CDN keeps.
    """
    posters = _NO_POSTERS if media_posters is None else media_posters
    for kept_catalog, kept_storage, kept_posters, table in list(_tables):
        if kept_catalog is catalog and kept_storage is storage and kept_posters == id(posters):
            return table
    store_url = _stable_url(storage) if storage.stable_urls else None
    table = Thumbnails(catalog, media_posters=posters, store_url=store_url)
    with _tables_lock:
        _tables.insert(0, (catalog, storage, id(posters), table))
        del _tables[_TABLES_KEPT:]
    return table


def _stable_url(storage: Storage) -> Callable[[str], str | None]:
    def url(key: str) -> str | None:
        try:
            return storage.url_for(key)
        except ValueError:  # an unsafe key: never shown
            return None

    return url


def card_facts(catalog: Catalog, search: SearchIndex, storage: Storage) -> CardFacts:
    """What the cards of a page need, from what is already loaded: no store call."""
    return CardFacts(thumbnails_for(catalog, storage), search.unrecorded())


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def event_site_video(talk: Talk, event: Event) -> Link | None:
    """The talk's video page on its event's own website, when the catalog links one.

    Conference sites (atscaleconference.com for the bundled catalog) publish their recordings
    on pages of their own; a link on the event's host whose title or path says video is one.
    """
    site = _host(event.url)
    if not site:
        return None
    for link in talk.links:
        if _host(link.url) != site:
            continue
        text = f"{link.title} {urlsplit(link.url).path}".lower()
        if any(word in text for word in _VIDEO_WORDS):
            return link
    return None


def recording_badge(talk: Talk, event: Event, facts: CardFacts) -> RecordingBadge:
    """Say what a card's recording is, from the catalog and the index, never the store."""
    if talk.do_not_record:  # the speakers asked not to be recorded (issue #10)
        return "not-recorded"
    if talk.recording.url or talk.slug not in facts.unrecorded:
        return "video"
    return "elsewhere" if event_site_video(talk, event) else "placeholder"


def link_host(link: Link | None) -> str:
    """The host a link points at, for "Watch on <host>"."""
    return _host(link.url) if link else ""


def has_recording(talk: Talk, unrecorded: frozenset[str]) -> bool:
    """Tell whether a talk has a real recording: an external one, or a file found in the store."""
    if talk.do_not_record:
        return False
    return bool(talk.recording.url) or talk.slug not in unrecorded


def plays_here(talk: Talk, unrecorded: frozenset[str]) -> bool:
    """Tell whether vod's player plays the talk's real recording (not only links to it)."""
    if talk.do_not_record:
        return False
    if talk.recording.url:
        return external_player(talk.recording.url).provider != "link"
    return talk.slug not in unrecorded
