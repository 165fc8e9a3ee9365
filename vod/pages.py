"""What each page shows, built from the catalog, the index and the store.

Each page has a dataclass that its template receives as `page`, and its JSON twin is made
from the same object, so the HTML and the API never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from vod.timecode import format_clock, format_duration

if TYPE_CHECKING:
    from vod.catalog import Catalog, Event, SessionGroup, Speaker, SpeakerRole, Talk
    from vod.index import SearchResults
    from vod.storage import Playback, Recordings

RELATED_LIMIT = 4
LIST_PAGE_SIZE = 50  # talks per page of /api/talks


@dataclass(frozen=True)
class TalkCard:
    """A talk as listed on the home, event, speaker and search pages."""

    talk: Talk
    event: Event
    speakers: tuple[Speaker, ...]
    recording_speakers: tuple[Speaker, ...]
    when: str  # "10:05–10:25 PDT", or "" when the time is not published
    teaser: str  # for a talk without a published title: the start of its abstract


TEASER_CHARS = 110


def _teaser(talk: Talk) -> str:
    if talk.title or not talk.abstract:
        return ""
    text = " ".join(talk.abstract.split())
    if len(text) <= TEASER_CHARS:
        return text
    return text[:TEASER_CHARS].rsplit(" ", 1)[0] + "…"


def talk_card(catalog: Catalog, talk: Talk) -> TalkCard:
    event = catalog.events[talk.event]
    return TalkCard(
        talk=talk,
        event=event,
        speakers=tuple(catalog.people(talk.speakers)),
        recording_speakers=tuple(catalog.people(talk.recording_speakers)),
        when=format_slot(talk.start, talk.end),
        teaser=_teaser(talk),
    )


def format_slot(start: datetime | None, end: datetime | None) -> str:
    """Format a slot as `10:05–10:25 PDT`; empty when the start is not published."""
    if start is None:
        return ""
    text = f"{start:%H:%M}"
    if end is not None:
        text += f"–{end:%H:%M}"
    return f"{text} {start.tzname() or ''}".strip()


def format_day(day: date) -> str:
    return f"{day:%A, %B} {day.day}, {day.year}"


def format_event_dates(event: Event) -> str:
    if event.start_date == event.end_date:
        return format_day(event.start_date)
    return (
        f"{event.start_date:%B} {event.start_date.day} – {event.end_date:%B} "
        f"{event.end_date.day}, {event.end_date.year}"
    )


@dataclass(frozen=True)
class HomePage:
    events: tuple[tuple[Event, int], ...]  # each event with its number of talks
    latest: tuple[TalkCard, ...]


def home_page(catalog: Catalog) -> HomePage:
    events = catalog.events_newest_first()
    counts = {e.slug: 0 for e in events}
    for t in catalog.talks.values():
        counts[t.event] += 1
    latest: list[TalkCard] = []
    for event in events[:3]:
        latest.extend(talk_card(catalog, t) for t in catalog.event_talks(event.slug)[:6])
    return HomePage(tuple((e, counts[e.slug]) for e in events), tuple(latest[:12]))


@dataclass(frozen=True)
class AgendaGroup:
    name: str | None
    cards: tuple[TalkCard, ...]


@dataclass(frozen=True)
class EventPage:
    event: Event
    dates: str
    groups: tuple[AgendaGroup, ...]
    talk_count: int
    untimed: int  # talks whose time is not published


def event_page(catalog: Catalog, slug: str) -> EventPage:
    event = catalog.event(slug)
    groups: list[SessionGroup] = catalog.agenda(slug)
    agenda = tuple(
        AgendaGroup(g.name, tuple(talk_card(catalog, t) for t in g.talks)) for g in groups
    )
    talks = [c for g in agenda for c in g.cards]
    return EventPage(
        event=event,
        dates=format_event_dates(event),
        groups=agenda,
        talk_count=len(talks),
        untimed=sum(1 for c in talks if c.talk.start is None),
    )


@dataclass(frozen=True)
class TalkPage:
    card: TalkCard
    playback: Playback
    start_at: int | None  # seconds into the recording where the player starts (?t=)
    start_label: str
    duration: str
    related: tuple[TalkCard, ...]
    event_dates: str  # the talk's day when its time is published, else the event's dates


def talk_page(
    catalog: Catalog, recordings: Recordings, slug: str, start_at: int | None = None
) -> TalkPage:
    talk = catalog.talk(slug)
    card = talk_card(catalog, talk)
    playback = recordings.playback(talk)
    if start_at is not None and talk.recording.duration and start_at >= talk.recording.duration:
        start_at = None  # past the end: play from the start rather than at the end
    return TalkPage(
        card=card,
        playback=playback,
        start_at=start_at,
        start_label=format_clock(start_at) if start_at else "",
        duration=format_duration(talk.duration),
        related=tuple(talk_card(catalog, t) for t in related_talks(catalog, talk)),
        # On a multi-day event, the event's date range would not say which day the talk was.
        event_dates=format_day(talk.start.date()) if talk.start else format_event_dates(card.event),
    )


def related_talks(catalog: Catalog, talk: Talk) -> list[Talk]:
    """Talks sharing a presenter first, then the neighbours in the same event's agenda."""
    people = set(talk.speakers) | set(talk.recording_speakers)
    shared = [
        t
        for t in catalog.talks.values()
        if t.slug != talk.slug and people & (set(t.speakers) | set(t.recording_speakers))
    ]
    agenda = catalog.event_talks(talk.event)
    i = next(n for n, t in enumerate(agenda) if t.slug == talk.slug)
    neighbours = [t for t in agenda[i + 1 :] + agenda[:i] if t not in shared]
    return (shared + neighbours)[:RELATED_LIMIT]


@dataclass(frozen=True)
class SpeakerPage:
    speaker: Speaker
    roles: tuple[tuple[SpeakerRole, TalkCard], ...]


def speaker_page(catalog: Catalog, slug: str) -> SpeakerPage:
    speaker = catalog.speaker(slug)
    roles: list[SpeakerRole] = catalog.speaker_roles(slug)
    return SpeakerPage(speaker, tuple((r, talk_card(catalog, r.talk)) for r in roles))


@dataclass(frozen=True)
class SearchHitCard:
    card: TalkCard
    snippet: str  # safe HTML: escaped text with <mark> around matches
    matched_in: str
    via_recording: bool
    score: float


@dataclass(frozen=True)
class SearchPage:
    query: str
    results: SearchResults | None
    hits: tuple[SearchHitCard, ...]
    error: str | None = None


def search_page(
    catalog: Catalog, query: str, results: SearchResults | None, error: str | None = None
) -> SearchPage:
    hits: list[SearchHitCard] = []
    for hit in results.hits if results else ():
        talk = catalog.talks.get(hit.slug)
        if talk is None:  # index a moment older than the catalog: skip, never fail
            continue
        hits.append(
            SearchHitCard(
                talk_card(catalog, talk), hit.snippet, hit.matched_in, hit.via_recording, hit.score
            )
        )
    return SearchPage(query, results, tuple(hits), error)


# ---- JSON twins --------------------------------------------------------------------------


def speaker_json(speaker: Speaker, url: str) -> dict[str, Any]:
    return {"slug": speaker.slug, "name": speaker.name, "company": speaker.company, "url": url}


def talk_summary_json(card: TalkCard, urls: Any) -> dict[str, Any]:
    talk = card.talk
    return {
        "slug": talk.slug,
        "title": talk.title,
        "url": urls.talk(talk.slug),
        "event": {"slug": card.event.slug, "name": card.event.name},
        "kind": talk.kind,
        "start": talk.start.isoformat() if talk.start else None,
        "end": talk.end.isoformat() if talk.end else None,
        "speakers": [speaker_json(s, urls.speaker(s.slug)) for s in card.speakers],
        "recording_speakers": [
            speaker_json(s, urls.speaker(s.slug)) for s in card.recording_speakers
        ],
    }


def talk_json(page: TalkPage, urls: Any) -> dict[str, Any]:
    talk = page.card.talk
    playback = page.playback
    return {
        **talk_summary_json(page.card, urls),
        "abstract": talk.abstract,
        "session": talk.session,
        "duration": talk.duration,
        "former_slugs": list(talk.former_slugs),
        "tags": list(talk.tags),
        "links": [{"title": link.title, "url": link.url} for link in talk.links],
        "recording": {
            "status": playback.status,
            "src": urls.absolute(playback.src) if playback.src else None,
            "media_type": playback.media_type,
            "placeholder": playback.is_placeholder,
            "note": playback.note,
            "captions": [
                {"lang": lang, "label": label, "src": urls.absolute(src)}
                for lang, label, src in playback.captions
            ],
            "chapters": [{"start": c.start, "title": c.title} for c in talk.recording.chapters],
        },
        "related": [c.talk.slug for c in page.related],
    }


def search_hit_json(hit: SearchHitCard, urls: Any) -> dict[str, Any]:
    card = hit.card
    return {
        "slug": card.talk.slug,
        "title": card.talk.title,
        "url": urls.talk(card.talk.slug),
        "speakers": [s.name for s in card.speakers],
        "recording_speakers": [s.name for s in card.recording_speakers],
        "event": {"slug": card.event.slug, "name": card.event.name},
        "snippet": hit.snippet,
        "matched_in": hit.matched_in,
        "via_recording": hit.via_recording,
        "score": hit.score,
    }


def event_json(page: EventPage, urls: Any) -> dict[str, Any]:
    event = page.event
    return {
        "slug": event.slug,
        "name": event.name,
        "url": urls.event(event.slug),
        "start_date": event.start_date.isoformat(),
        "end_date": event.end_date.isoformat(),
        "timezone": event.timezone,
        "location": event.location,
        "description": event.description,
        "sessions": [
            {"name": g.name, "talks": [talk_summary_json(c, urls) for c in g.cards]}
            for g in page.groups
        ],
    }
