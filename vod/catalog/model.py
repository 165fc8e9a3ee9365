"""Domain model: events, talks, speakers and recordings, and the catalog that holds them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from itertools import groupby
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from vod.errors import EventNotFound, SpeakerNotFound, TalkNotFound

if TYPE_CHECKING:
    from vod.media.entry import MediaEntry

# `date` names a field of Talk, so the class body refers to the type by this name.
Day = date
# What pages, feeds, cards and previews say where a talk's title is not published yet.
UNTITLED = "Title not published"

# Kinds of agenda slot a talk can be.
TALK_KINDS = ("keynote", "talk", "panel", "remarks", "lightning", "workshop")


@dataclass(frozen=True)
class Speaker:
    """A person: one identity across events and talks."""

    slug: str
    name: str | None = None
    company: str | None = None
    job_title: str | None = None
    bio: str | None = None
    photo: str | None = None
    url: str | None = None
    aliases: tuple[str, ...] = ()
    # Slugs of speakers merged into this one: their pages answer 301 here (issue #14).
    former_slugs: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return self.name or "Name not published"


@dataclass(frozen=True)
class Caption:
    """A WebVTT caption track of a recording."""

    lang: str
    label: str
    key: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Chapter:
    start: int
    title: str


@dataclass(frozen=True)
class Recording:
    """Where a talk's video lives: a key in the configured store, or an external URL."""

    key: str | None = None
    url: str | None = None
    media_type: str = "video/mp4"
    duration: int | None = None
    poster: str | None = None
    captions: tuple[Caption, ...] = ()
    chapters: tuple[Chapter, ...] = ()
    poster_at: int | None = None  # seconds in: where `vod media` takes the poster frame
    # What `vod media` made from the recording (probe, poster, downloads), from the media
    # manifest; never from the catalog files (issue #14).
    media: MediaEntry | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Event:
    slug: str
    name: str
    start_date: date
    end_date: date
    timezone: str
    description: str | None = None
    location: str | None = None
    url: str | None = None
    source: str = ""

    @property
    def year(self) -> int:
        return self.start_date.year


@dataclass(frozen=True)
class Talk:
    """One agenda slot and its recording. `slug` is the permalink, unique across the catalog."""

    slug: str
    event: str
    title: str | None
    abstract: str | None
    kind: str
    session: str | None
    start: datetime | None
    end: datetime | None
    speakers: tuple[str, ...]
    recording_speakers: tuple[str, ...]
    recording: Recording
    former_slugs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    position: int = 0  # order in its catalog file; breaks ties and orders untimed slots
    # The day of a talk whose time is not published (pyvideo's `recorded`), else None.
    date: Day | None = None
    language: str | None = None  # as the source writes it: "eng" (pyvideo), "en" (pretalx)
    guid: str | None = None  # stable key in the source it was imported from (a UUID)
    code: str | None = None  # the source's short code (pretalx), when it has one
    # The speakers asked not to be recorded (pretalx's `do_not_record`): the slot is on the
    # agenda, but there is no recording, and feeds, sitemaps and oEmbed never list it.
    do_not_record: bool = False

    @property
    def published(self) -> bool:
        """Tell whether feeds, sitemaps and oEmbed may list the talk (not `do_not_record`)."""
        return not self.do_not_record

    @property
    def day(self) -> Day | None:
        """The day of the talk: its start's, else its `date`."""
        return self.start.date() if self.start else self.date

    @property
    def display_title(self) -> str:
        return self.title or UNTITLED

    @property
    def recording_speakers_differ(self) -> bool:
        return self.recording_speakers != self.speakers

    @property
    def duration(self) -> int | None:
        """Length in seconds: the recording's, else the scheduled slot's."""
        if self.recording.duration:
            return self.recording.duration
        if self.start and self.end:
            return int((self.end - self.start).total_seconds())
        return None


@dataclass(frozen=True)
class SessionGroup:
    """Consecutive agenda slots that share a session name (None when not published)."""

    name: str | None
    talks: tuple[Talk, ...]


@dataclass(frozen=True)
class SpeakerRole:
    """A talk a speaker is part of, and how: live, in the recording, or both."""

    talk: Talk
    live: bool
    recorded: bool


@dataclass(frozen=True)
class Catalog:
    """Every event, talk and speaker, validated, with lookups the pages need."""

    events: Mapping[str, Event]
    talks: Mapping[str, Talk]
    speakers: Mapping[str, Speaker]
    redirects: Mapping[str, str] = field(default_factory=dict)  # former slug -> current slug
    # A merged speaker's former slug -> the speaker it became.
    speaker_redirects: Mapping[str, str] = field(default_factory=dict)
    digest: str = ""  # hash of the source files; the index records it to know when it is stale
    # The media manifest merged in (vod/media/manifest.py: with_media), "" when none: what
    # pages kept rendered depend on besides the catalog files.
    media_digest: str = ""
    # Digests of each event, talk and speaker ("t:<slug>", ...), kept by the catalog cache so an
    # incremental index update finds what changed without hashing 21,700 talks (index/).
    fingerprints: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def event(self, slug: str) -> Event:
        try:
            return self.events[slug]
        except KeyError:
            raise EventNotFound(slug) from None

    def speaker(self, slug: str) -> Speaker:
        try:
            return self.speakers[slug]
        except KeyError:
            raise SpeakerNotFound(slug) from None

    def talk(self, slug: str) -> Talk:
        try:
            return self.talks[slug]
        except KeyError:
            raise TalkNotFound(slug) from None

    def redirect_for(self, slug: str) -> str | None:
        """Return the current slug for a former one, or None."""
        return self.redirects.get(slug)

    def speaker_redirect_for(self, slug: str) -> str | None:
        """Return the current slug of a speaker merged away from `slug`, or None."""
        return self.speaker_redirects.get(slug)

    def people(self, slugs: tuple[str, ...]) -> list[Speaker]:
        return [self.speakers[s] for s in slugs]

    @cached_property
    def _lookups(self) -> _Lookups:
        # Built once, on first use: pages ask per event, speaker or year, never scan all talks.
        return _Lookups.build(self)

    def warm(self) -> None:
        """Build the lookups now rather than on the first page that needs them."""
        self._lookups  # noqa: B018

    def event_talks(self, event: str) -> list[Talk]:
        """Talks of an event in agenda order: timed slots by start, then untimed in file order."""
        return list(self._lookups.by_event.get(event, ()))

    def event_talk_count(self, event: str) -> int:
        return len(self._lookups.by_event.get(event, ()))

    def agenda(self, event: str) -> list[SessionGroup]:
        """Group an event's talks by session, keeping time order."""
        return [
            SessionGroup(name, tuple(group))
            for name, group in groupby(self.event_talks(event), key=lambda t: t.session)
        ]

    def speaker_talks(self, speaker: str) -> tuple[Talk, ...]:
        """Every talk a speaker gave live or appears in, newest event first, in agenda order."""
        return self._lookups.by_speaker.get(speaker, ())

    def speaker_roles(self, speaker: str) -> list[SpeakerRole]:
        """Every talk a speaker gave live or appears in, newest event first."""
        return [
            SpeakerRole(t, speaker in t.speakers, speaker in t.recording_speakers)
            for t in self.speaker_talks(speaker)
        ]

    def events_newest_first(self) -> list[Event]:
        return list(self._lookups.newest_events)

    def talks_newest_first(self) -> tuple[Talk, ...]:
        """Every talk: newest event first, each event's talks in agenda order."""
        return self._lookups.newest_talks

    def years(self) -> tuple[int, ...]:
        """Years in which some event took place, newest first."""
        return tuple(self._lookups.by_year)

    def year_events(self, year: int) -> list[Event]:
        """Events that took place (wholly or partly) in `year`, newest first."""
        return list(self._lookups.by_year.get(year, ()))


def _agenda_key(talk: Talk) -> tuple[int, float, int]:
    # By instant, not by local clock text: the hour repeated when clocks go back sorts right.
    # Talks with only a day (imported catalogs) follow the timed ones, by day; then the rest.
    if talk.start is not None:
        return (0, talk.start.timestamp(), talk.position)
    if talk.date is not None:
        return (1, float(talk.date.toordinal()), talk.position)
    return (2, 0.0, talk.position)


@dataclass(frozen=True)
class _Lookups:
    """Per-event, per-speaker and per-year views of a catalog, built once."""

    by_event: dict[str, tuple[Talk, ...]]
    by_speaker: dict[str, tuple[Talk, ...]]
    by_year: dict[int, tuple[Event, ...]]
    newest_events: tuple[Event, ...]
    newest_talks: tuple[Talk, ...]

    @classmethod
    def build(cls, catalog: Catalog) -> _Lookups:
        grouped: dict[str, list[Talk]] = {slug: [] for slug in catalog.events}
        for talk in catalog.talks.values():
            grouped.setdefault(talk.event, []).append(talk)
        by_event = {e: tuple(sorted(ts, key=_agenda_key)) for e, ts in grouped.items()}
        newest = tuple(
            sorted(catalog.events.values(), key=lambda e: (e.start_date, e.slug), reverse=True)
        )
        newest_talks = tuple(t for e in newest for t in by_event[e.slug])
        people: dict[str, list[Talk]] = {}
        for talk in newest_talks:
            for slug in dict.fromkeys((*talk.speakers, *talk.recording_speakers)):
                people.setdefault(slug, []).append(talk)
        years: dict[int, list[Event]] = {}
        for event in newest:
            for year in range(event.start_date.year, event.end_date.year + 1):
                years.setdefault(year, []).append(event)
        return cls(
            by_event=by_event,
            by_speaker={s: tuple(ts) for s, ts in people.items()},
            by_year={y: tuple(years[y]) for y in sorted(years, reverse=True)},
            newest_events=newest,
            newest_talks=newest_talks,
        )


def default_recording_key(event: str, talk: str) -> str:
    """Return the store key a recording has when the catalog gives none."""
    return str(PurePosixPath(event) / f"{talk}.mp4")
