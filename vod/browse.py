"""The pages that list talks: home, event, speaker and `/talks`, as cards, paged (issue #11).

Every list of more than PAGE_SIZE talks is paged the same way in its page and its JSON twin.
Sort orders are computed once per catalog; a page only filters and slices them, so the lists
stay fast at pyvideo's 21,700 talks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from vod.errors import QueryError
from vod.listing import CardFacts, TalkCard, has_recording, is_pending, talk_card
from vod.lru import LruCache
from vod.pages import speaker_json, talk_summary_json
from vod.paging import PAGE_SIZE, Paging, paginate
from vod.thumbnails import event_card
from vod.timecode import format_day, format_days

if TYPE_CHECKING:
    from vod.catalog import Catalog, Event, Speaker, Talk
    from vod.thumbnails import Thumbnail
    from vod.urls import SiteUrls

# ---- sort orders and filters of /talks -------------------------------------------------------

SORTS = {
    "newest": "Newest",
    "oldest": "Oldest",
    "title": "Title",
    "longest": "Longest",
    "shortest": "Shortest",
}
MAX_FILTER_VALUES = 20  # values one filter may repeat
FILTERED_KEPT = 256  # filtered lists kept per process: the same filters are asked again and again


def _oldest(catalog: Catalog) -> tuple[Talk, ...]:
    return tuple(
        t for e in reversed(catalog.events_newest_first()) for t in catalog.event_talks(e.slug)
    )


def _by_title(talk: Talk) -> tuple[bool, str, str]:
    return (talk.title is None, (talk.title or "").casefold(), talk.slug)


_ORDER_MAKERS: dict[str, Callable[[Catalog], Sequence[Talk]]] = {
    "newest": lambda c: c.talks_newest_first(),
    "oldest": _oldest,
    "title": lambda c: tuple(sorted(c.talks.values(), key=_by_title)),
    # Talks of unknown length last in both, newest first among equals (a stable sort).
    "longest": lambda c: tuple(
        sorted(c.talks_newest_first(), key=lambda t: (t.duration is None, -(t.duration or 0)))
    ),
    "shortest": lambda c: tuple(
        sorted(c.talks_newest_first(), key=lambda t: (t.duration is None, t.duration or 0))
    ),
}


class _Orders:
    """Every sort order of one catalog, each made on first use and kept, with each talk's rank
    in it (a filter that leaves a few talks sorts them by rank instead of scanning them all)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._made: dict[str, tuple[tuple[Talk, ...], dict[str, int]]] = {}
        self._lock = threading.Lock()

    def get(self, sort: str) -> tuple[tuple[Talk, ...], dict[str, int]]:
        made = self._made.get(sort)
        if made is None:
            with self._lock:
                made = self._made.get(sort)
                if made is None:
                    order = tuple(_ORDER_MAKERS[sort](self.catalog))
                    rank = {t.slug: i for i, t in enumerate(order)}
                    made = self._made[sort] = (order, rank)
        return made


_orders: tuple[Catalog, _Orders] | None = None
_filtered: LruCache[tuple[Talk, ...]] = LruCache(FILTERED_KEPT)


def talk_order(catalog: Catalog, sort: str) -> tuple[Talk, ...]:
    """Every talk of `catalog` in a SORTS order (kept for the catalog being served)."""
    return _orders_of(catalog).get(sort)[0]


def _orders_of(catalog: Catalog) -> _Orders:
    global _orders
    current = _orders
    if current is None or current[0] is not catalog:
        current = _orders = (catalog, _Orders(catalog))
    return current[1]


def warm(catalog: Catalog) -> None:
    """Make every sort order of /talks now, not in the first request that asks for one."""
    for sort in SORTS:
        _orders_of(catalog).get(sort)


class QueryParams(Protocol):
    """What filters are read from: a URL's query parameters (Starlette's QueryParams)."""

    def get(self, key: str) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class BrowseFilters:
    """What /talks is limited to: any of the events, years and speakers given, and recordings."""

    event: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    speaker: tuple[str, ...] = ()
    recording: str = ""  # "1": only talks with a real recording, "0": only without, "": all

    @classmethod
    def from_query(cls, params: QueryParams) -> BrowseFilters:
        """Read the filters from a URL's query (a Starlette QueryParams); QueryError if bad."""
        chosen: dict[str, tuple[str, ...]] = {}
        for name in ("event", "year", "speaker"):
            values = tuple(dict.fromkeys(v.strip() for v in params.getlist(name) if v.strip()))
            if len(values) > MAX_FILTER_VALUES or any(len(v) > 200 for v in values):
                raise QueryError(f"Too many or too long {name} filters; use at most 20.")
            chosen[name] = values
        if not all(y.isascii() and y.isdigit() and len(y) == 4 for y in chosen["year"]):
            raise QueryError("A year filter is a year, like year=2024.")
        recording = (params.get("recording") or "").strip()
        if recording not in ("", "1", "0"):
            raise QueryError("The recording filter is recording=1 (has one) or recording=0.")
        return cls(chosen["event"], chosen["year"], chosen["speaker"], recording)

    def pairs(self) -> list[tuple[str, str]]:
        """The filters as URL parameters, in a stable order."""
        out = [(name, v) for name in ("event", "year", "speaker") for v in getattr(self, name)]
        return [*out, ("recording", self.recording)] if self.recording else out

    @property
    def active(self) -> bool:
        return bool(self.pairs())

    def as_json(self) -> dict[str, list[str]]:
        """The filters in force, each with its values (as the search API gives them)."""
        out: dict[str, list[str]] = {}
        for name, value in self.pairs():
            out.setdefault(name, []).append(value)
        return out


def filtered_talks(
    catalog: Catalog, filters: BrowseFilters, sort: str, unrecorded: frozenset[str]
) -> tuple[Talk, ...]:
    """The talks the filters allow, in the sort order (kept for the next page of the list)."""
    order, rank = _orders_of(catalog).get(sort)
    if not filters.active:
        return order
    key = (id(catalog), catalog.digest, filters, sort, id(unrecorded))
    found, _ = _filtered.get_or_make(
        key, lambda: _filter(catalog, order, rank, filters, unrecorded)
    )
    return found


def _filter(
    catalog: Catalog,
    order: Sequence[Talk],
    rank: dict[str, int],
    filters: BrowseFilters,
    unrecorded: frozenset[str],
) -> tuple[Talk, ...]:
    allowed: set[str] | None = None

    def narrow(slugs: set[str]) -> None:
        nonlocal allowed
        allowed = slugs if allowed is None else allowed & slugs

    if filters.event:
        narrow({t.slug for e in filters.event for t in catalog.event_talks(e)})
    if filters.year:
        years = {int(y) for y in filters.year}
        narrow(
            {
                t.slug
                for y in years
                for e in catalog.year_events(y)
                for t in catalog.event_talks(e.slug)
                if (t.day or e.start_date).year in years
            }
        )
    if filters.speaker:
        narrow({t.slug for s in filters.speaker for t in catalog.speaker_talks(s)})
    want = filters.recording
    if allowed is not None and len(allowed) * 2 < len(order):
        # A few talks (an event, a speaker, a year): sort them by rank, no scan of them all.
        candidates: Sequence[Talk] = [
            catalog.talks[s] for s in sorted(allowed, key=rank.__getitem__)
        ]
        allowed = None
    else:
        candidates = order
    return tuple(
        t
        for t in candidates
        if (allowed is None or t.slug in allowed)
        and (not want or has_recording(t, unrecorded) == (want == "1"))
    )


@dataclass(frozen=True)
class BrowsePage:
    """/talks: every talk as a card, sorted and filtered, one page of them."""

    cards: tuple[TalkCard, ...]
    paging: Paging
    sort: str
    filters: BrowseFilters
    chips: tuple[tuple[str, str], ...]  # (what the filter is, the link without it)
    years: tuple[int, ...]  # the catalog's years, newest first, for the year menu
    events: tuple[Event, ...]  # the events the menu offers: of the chosen years, else all

    @property
    def sorts(self) -> tuple[tuple[str, str], ...]:
        return tuple(SORTS.items())

    def href(
        self, *, page: int = 1, sort: str | None = None, without: tuple[str, str] | None = None
    ) -> str:
        """This list's query string: another page or sort, or without one filter."""
        params = [pair for pair in self.filters.pairs() if pair != without]
        chosen = sort or self.sort
        if chosen != "newest":
            params.append(("sort", chosen))
        if page > 1:
            params.append(("page", str(page)))
        return "?" + urlencode(params) if params else ""


EVENT_MENU_LIMIT = 80  # an event menu longer than this lists only the chosen years' events


def browse_page(
    catalog: Catalog,
    facts: CardFacts,
    filters: BrowseFilters,
    sort: str,
    page: int,
) -> BrowsePage:
    """Build one page of /talks; PageOutOfRange past its last page."""
    talks = filtered_talks(catalog, filters, sort, facts.unrecorded)
    chunk, paging = paginate(talks, page)
    labels: dict[str, Callable[[str], str]] = {
        "event": lambda v: catalog.events[v].name if v in catalog.events else v,
        "speaker": lambda v: catalog.speakers[v].display_name if v in catalog.speakers else v,
        "year": str,
        "recording": lambda v: "with a recording" if v == "1" else "without a recording",
    }
    shell = BrowsePage((), paging, sort, filters, (), (), ())
    chips = tuple(
        (
            f"{name.capitalize()}: {labels[name](value)}",
            shell.href(sort=sort, without=(name, value)),
        )
        for name, value in filters.pairs()
    )
    events = catalog.events_newest_first()
    if len(events) > EVENT_MENU_LIMIT:
        years = {int(y) for y in filters.year}
        events = [e for e in events if e.year in years or e.slug in filters.event]
    return BrowsePage(
        cards=tuple(talk_card(catalog, t, facts) for t in chunk),
        paging=paging,
        sort=sort,
        filters=filters,
        chips=chips,
        years=catalog.years(),
        events=tuple(events),
    )


# ---- home ------------------------------------------------------------------------------------

HOME_EVENTS = 24  # newest events shown with covers; the rest are a year page away
HOME_TALKS = 12  # newest recordings in the grid


@dataclass(frozen=True)
class EventCover:
    """An event as a card: its cover (its first talk's poster, or a generated card)."""

    event: Event
    talks: int
    dates: str
    cover: Thumbnail | None


def event_cover(catalog: Catalog, event: Event, facts: CardFacts) -> EventCover:
    """An event's cover: the first poster among its first talks, else its generated card."""
    talks = catalog.event_talks(event.slug)
    thumbs = (facts.thumbnails[t.slug] for t in talks[:12])
    cover = next((th for th in thumbs if not th.is_card), None) or event_card(event)
    return EventCover(event, len(talks), format_days(event.start_date, event.end_date), cover)


@dataclass(frozen=True)
class HomePage:
    latest: tuple[TalkCard, ...]
    latest_are_recordings: bool  # False: no talk has a real recording yet; newest talks shown
    events: tuple[EventCover, ...]
    years: tuple[tuple[int, int], ...]  # (year, number of events), newest first
    more_events: int  # events not shown here (see the year pages)
    talk_count: int


def home_page(catalog: Catalog, facts: CardFacts) -> HomePage:
    newest = catalog.talks_newest_first()
    recorded = [t for t in newest[: HOME_TALKS * 20] if has_recording(t, facts.unrecorded)]
    latest = recorded[:HOME_TALKS] if len(recorded) >= 4 else list(newest[:HOME_TALKS])
    events = catalog.events_newest_first()
    return HomePage(
        latest=tuple(talk_card(catalog, t, facts) for t in latest),
        latest_are_recordings=len(recorded) >= 4,
        events=tuple(event_cover(catalog, e, facts) for e in events[:HOME_EVENTS]),
        years=tuple((y, len(catalog.year_events(y))) for y in catalog.years()),
        more_events=max(len(events) - HOME_EVENTS, 0),
        talk_count=len(catalog.talks),
    )


# ---- event -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaGroup:
    """Talks of one session (or room) in time order; `name` None when none is published."""

    name: str | None
    anchor: str
    cards: tuple[TalkCard, ...]


@dataclass(frozen=True)
class AgendaDay:
    """One day of an agenda (`day` None: talks whose day is not known)."""

    day: date | None
    label: str
    anchor: str
    groups: tuple[AgendaGroup, ...]


@dataclass(frozen=True)
class EventPage:
    event: Event
    dates: str
    days: tuple[AgendaDay, ...]
    talk_count: int
    untimed: int  # talks whose time is not published
    paging: Paging
    pending: bool  # upcoming or recent: unpublished times may still come
    by_title: bool  # an archive event without times: listed by title
    jump: tuple[tuple[str, str], ...] = ()  # (label, link) to each day or session
    cover: Thumbnail | None = None

    @property
    def cards(self) -> tuple[TalkCard, ...]:
        return tuple(c for d in self.days for g in d.groups for c in g.cards)


def _slug(text: str) -> str:
    word = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(p for p in word.split("-") if p) or "session"


def day_of(talk: Talk, event: Event) -> date | None:
    """The talk's day: its own, else its event's when the event lasted one day."""
    if talk.day:
        return talk.day
    return event.start_date if event.start_date == event.end_date else None


def event_order(catalog: Catalog, event: Event) -> tuple[list[Talk], bool]:
    """The event's talks as the page lists them, and whether that is by title only.

    By day, then session (or room), in time order; talks without a time follow the timed ones
    of their day in the published order. A day of an archive event without any time is
    listed by title, and so is such an event of one day (issue #11).
    """
    talks = catalog.event_talks(event.slug)
    pending = is_pending(event)
    untimed_one_day = len({day_of(t, event) for t in talks}) <= 1
    if not pending and untimed_one_day and not any(t.start for t in talks):
        return sorted(talks, key=_by_title), True
    by_day = sorted(talks, key=lambda t: (day_of(t, event) is None, day_of(t, event) or date.min))
    ordered: list[Talk] = []
    for _day, in_day in groupby(by_day, key=lambda t: day_of(t, event)):
        day_talks = list(in_day)
        timed = [t for t in day_talks if t.start]
        untimed = [t for t in day_talks if not t.start]
        if not pending and not timed:  # a day of an archive without times: by title
            untimed.sort(key=_by_title)
        # Sessions in the order of their first talk; each session's talks in time order.
        sessions: dict[str | None, list[Talk]] = {}
        for t in timed:
            sessions.setdefault(t.session, []).append(t)
        ordered += [t for group in sessions.values() for t in group] + untimed
    return ordered, False


def _session_anchor(name: str | None) -> str:
    return f"s-{_slug(name)}" if name else "s-none"


def _groups(cards: Sequence[TalkCard], event: Event, days_apart: bool) -> tuple[AgendaDay, ...]:
    out: list[AgendaDay] = []
    for day, in_day in groupby(cards, key=lambda c: day_of(c.talk, event) if days_apart else None):
        groups = tuple(
            AgendaGroup(name, _session_anchor(name), tuple(group))
            for name, group in groupby(in_day, key=lambda c: c.talk.session)
        )
        unknown = "Day not published yet" if is_pending(event) else "Day not recorded"
        label = format_day(day) if day else (unknown if days_apart else "")
        out.append(AgendaDay(day, label, f"d-{day.isoformat()}" if day else "d-none", groups))
    return tuple(out)


def event_page(catalog: Catalog, slug: str, facts: CardFacts, page: int = 1) -> EventPage:
    """Build one page of an event's agenda; EventNotFound, PageOutOfRange."""
    event = catalog.event(slug)
    talks, by_title = event_order(catalog, event)
    chunk, paging = paginate(talks, page)
    cards = [talk_card(catalog, t, facts) for t in chunk]
    days_apart = not by_title and len({day_of(t, event) for t in talks}) > 1
    # The jump list covers the whole agenda, each entry on the page where it starts.
    jump: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, t in enumerate(talks if not by_title else ()):
        day = day_of(t, event)
        if days_apart:
            label, anchor = (format_day(day), f"d-{day.isoformat()}") if day else ("", "")
        else:
            label, anchor = t.session or "", _session_anchor(t.session) if t.session else ""
        if label and anchor not in seen:
            seen.add(anchor)
            on = i // PAGE_SIZE + 1
            jump.append((label, (f"?page={on}" if on > 1 else "") + f"#{anchor}"))
    return EventPage(
        event=event,
        dates=format_days(event.start_date, event.end_date),
        days=_groups(cards, event, days_apart),
        talk_count=len(talks),
        untimed=sum(1 for t in talks if t.start is None),
        paging=paging,
        pending=is_pending(event),
        by_title=by_title,
        jump=tuple(jump) if len(jump) > 1 else (),
        cover=event_cover(catalog, event, facts).cover,
    )


# ---- speaker ---------------------------------------------------------------------------------

ROLE_LABELS = {
    "both": "Presented live and in the recording",
    "live": "Presented live (not in the recording)",
    "recorded": "In the recording (did not present live)",
}


@dataclass(frozen=True)
class RoleGroup:
    role: str  # a ROLE_LABELS key
    label: str
    cards: tuple[TalkCard, ...]


@dataclass(frozen=True)
class SpeakerPage:
    speaker: Speaker
    talk_count: int
    groups: tuple[RoleGroup, ...]
    paging: Paging
    counts: dict[str, int] = field(default_factory=dict)  # talks per role, over every page

    @property
    def cards(self) -> tuple[TalkCard, ...]:
        return tuple(c for g in self.groups for c in g.cards)


def _role(speaker: str, talk: Talk) -> str:
    live, recorded = speaker in talk.speakers, speaker in talk.recording_speakers
    return "both" if live and recorded else ("live" if live else "recorded")


def speaker_page(catalog: Catalog, slug: str, facts: CardFacts, page: int = 1) -> SpeakerPage:
    """Build one page of a speaker's talks, grouped by role; SpeakerNotFound, PageOutOfRange."""
    speaker = catalog.speaker(slug)
    talks = catalog.speaker_talks(slug)
    roles = list(ROLE_LABELS)
    ordered = sorted(talks, key=lambda t: roles.index(_role(slug, t)))  # stable: newest first
    chunk, paging = paginate(ordered, page)
    groups = tuple(
        RoleGroup(role, ROLE_LABELS[role], tuple(talk_card(catalog, t, facts) for t in group))
        for role, group in groupby(chunk, key=lambda t: _role(slug, t))
    )
    counts: dict[str, int] = {}
    for t in talks:
        counts[_role(slug, t)] = counts.get(_role(slug, t), 0) + 1
    return SpeakerPage(speaker, len(talks), groups, paging, counts)


# ---- JSON twins ------------------------------------------------------------------------------


def paging_json(
    paging: Paging, urls: SiteUrls, path: str, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """The paging keys every list twin carries: page, pages, total, next and prev (URLs)."""

    def link(n: int | None) -> str | None:
        return urls.absolute(path + paging.query(n, params)) if n else None

    return {
        "total": paging.total,
        "page": paging.page,
        "pages": paging.pages,
        "next": link(paging.next),
        "prev": link(paging.prev),
    }


def browse_json(page: BrowsePage, urls: SiteUrls, path: str) -> dict[str, Any]:
    params = [*page.filters.pairs(), *([("sort", page.sort)] if page.sort != "newest" else [])]
    return {
        **paging_json(page.paging, urls, path, params),
        "results": [talk_summary_json(c, urls) for c in page.cards],
        "sort": page.sort,
        "filters": page.filters.as_json(),
    }


def event_json(page: EventPage, urls: SiteUrls, path: str) -> dict[str, Any]:
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
            {
                "name": g.name,
                "day": d.day.isoformat() if d.day else None,
                "talks": [talk_summary_json(c, urls) for c in g.cards],
            }
            for d in page.days
            for g in d.groups
        ],
        "order": "title" if page.by_title else "agenda",
        **paging_json(page.paging, urls, path, ()),
    }


def speaker_page_json(page: SpeakerPage, urls: SiteUrls, path: str) -> dict[str, Any]:
    sp = page.speaker
    return {
        **speaker_json(sp, urls.speaker(sp.slug)),
        "job_title": sp.job_title,
        "bio": sp.bio,
        "photo": sp.photo,
        "talk_count": page.talk_count,
        "roles": [
            {
                "role": g.role,
                "label": g.label,
                "talks": [talk_summary_json(c, urls) for c in g.cards],
            }
            for g in page.groups
        ],
        **paging_json(page.paging, urls, path, ()),
    }
