"""Domain model: events, talks, speakers and recordings, and the catalog that holds them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from pathlib import PurePosixPath

from vod.errors import EventNotFound, SpeakerNotFound, TalkNotFound

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

    @property
    def is_external(self) -> bool:
        return self.url is not None


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

    @property
    def display_title(self) -> str:
        return self.title or "Title not published"

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
    digest: str = ""  # hash of the source files; the index records it to know when it is stale

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

    def people(self, slugs: tuple[str, ...]) -> list[Speaker]:
        return [self.speakers[s] for s in slugs]

    def event_talks(self, event: str) -> list[Talk]:
        """Talks of an event in agenda order: timed slots by start, then untimed in file order."""
        talks = [t for t in self.talks.values() if t.event == event]
        return sorted(talks, key=_agenda_key)

    def agenda(self, event: str) -> list[SessionGroup]:
        """Group an event's talks by session, keeping time order."""
        return [
            SessionGroup(name, tuple(group))
            for name, group in groupby(self.event_talks(event), key=lambda t: t.session)
        ]

    def speaker_roles(self, speaker: str) -> list[SpeakerRole]:
        """Every talk a speaker gave live or appears in, newest event first."""
        roles = [
            SpeakerRole(t, speaker in t.speakers, speaker in t.recording_speakers)
            for t in self.talks.values()
            if speaker in t.speakers or speaker in t.recording_speakers
        ]
        roles.sort(key=lambda r: _agenda_key(r.talk))
        roles.sort(key=lambda r: self.events[r.talk.event].start_date, reverse=True)
        return roles

    def events_newest_first(self) -> list[Event]:
        return sorted(self.events.values(), key=lambda e: (e.start_date, e.slug), reverse=True)

    def recording_key(self, talk: Talk) -> str | None:
        """Return the store key of a talk's recording (None for external ones)."""
        return talk.recording.key


def _agenda_key(talk: Talk) -> tuple[int, float, int]:
    # By instant, not by local clock text: the hour repeated when clocks go back sorts right.
    if talk.start is None:
        return (1, 0.0, talk.position)
    return (0, talk.start.timestamp(), talk.position)


def default_recording_key(event: str, talk: str) -> str:
    """Return the store key a recording has when the catalog gives none."""
    return str(PurePosixPath(event) / f"{talk}.mp4")
