"""What each page shows, built from the catalog, the index and the store.

Each page has a dataclass that its template receives as `page`, and its JSON twin is made
from the same object, so the HTML and the API never disagree.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from vod.errors import IndexNotBuilt, QueryError
from vod.index import MAX_PAGE, SORTS, Filters
from vod.links.share import TalkLinks, talk_links
from vod.listing import CardFacts, talk_card
from vod.paging import PAGE_SIZE
from vod.timecode import clip_bounds, format_clock, format_day, format_days, format_duration
from vod.urls import PlayRange

if TYPE_CHECKING:
    from vod.catalog import Catalog, Event, Speaker, Talk
    from vod.index import (
        Cue,
        Facet,
        QueryParams,
        SaidAt,
        SearchIndex,
        SearchResults,
        Suggestion,
    )
    from vod.listing import TalkCard
    from vod.media.entry import ThumbGrid
    from vod.storage import Playback, Recordings
    from vod.thumbnails import Thumbnail
    from vod.urls import SiteUrls

log = logging.getLogger(__name__)

RELATED_LIMIT = 4
LIST_PAGE_SIZE = PAGE_SIZE  # talks per page of /api/talks, as of every paged list (issue #11)


@dataclass(frozen=True)
class YearPage:
    year: int
    events: tuple[tuple[Event, int, str], ...]  # each event, its number of talks, its dates
    newer: int | None  # the nearest years with events, for links
    older: int | None


def year_page(catalog: Catalog, year: int) -> YearPage:
    """Events that took place in `year`, newest first; YearNotFound when there are none."""
    from vod.errors import YearNotFound

    events = catalog.year_events(year)
    if not events:
        raise YearNotFound(str(year))
    years = catalog.years()  # newest first
    return YearPage(
        year=year,
        events=tuple(
            (e, catalog.event_talk_count(e.slug), format_days(e.start_date, e.end_date))
            for e in events
        ),
        newer=next((y for y in reversed(years) if y > year), None),
        older=next((y for y in years if y < year), None),
    )


DOWNLOAD_TITLES = {"original": "Original recording", "audio": "Audio only"}


def format_bytes(size: int) -> str:
    """Say a file size as people read it: `850 KB`, `1.4 GB`."""
    amount = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit in ("bytes", "KB") else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} TB"  # pragma: no cover - the loop returns at GB


@dataclass(frozen=True)
class DownloadLink:
    """A file the talk page offers: the original, the audio-only file, a smaller rendition."""

    kind: str  # "original", "audio", "360p"
    url: str
    mime: str
    bytes: int
    label: str  # the format: "MP4 · H.264/AAC · 1920×1080"

    @property
    def title(self) -> str:
        return DOWNLOAD_TITLES.get(self.kind, f"{self.kind} video")

    @property
    def size(self) -> str:
        return format_bytes(self.bytes)


@dataclass(frozen=True)
class TalkMedia:
    """What `vod media` made for the recording, as URLs the browser can load (issue #14)."""

    poster: str | None
    poster_small: str | None
    thumbnails: str | None  # WebVTT track of the seek preview
    sprite: str | None
    downloads: tuple[DownloadLink, ...]
    thumb_grid: ThumbGrid | None = None  # the sprite's layout, for the player's preview

    @property
    def qualities(self) -> list[dict[str, str]]:
        """The videos the player's quality menu offers: the original, then each rendition."""
        videos = [d for d in self.downloads if d.kind != "audio" and d.mime.startswith("video/")]
        if len(videos) < 2:
            return []
        return [
            {"label": "Original" if d.kind == "original" else d.kind, "src": d.url} for d in videos
        ]


def talk_media(talk: Talk, recordings: Recordings) -> TalkMedia | None:
    """URLs of the talk's poster, seek preview and downloads; None without a media entry.

    The URLs come from the media manifest merged into the catalog: no store call here.
    """
    from vod.errors import StorageUnavailable

    entry = talk.recording.media
    if entry is None or talk.recording.url:
        return None
    storage = recordings.storage

    def url(ref: str | None) -> str | None:
        if ref is None:
            return None
        if ref.startswith(("http://", "https://")):
            return ref
        try:
            return storage.url_for(ref)
        except (ValueError, StorageUnavailable):
            return None

    downloads = []
    for d in entry.downloads:
        link = url(d.key)
        if link is not None:
            downloads.append(DownloadLink(d.kind, link, d.mime, d.bytes, d.label))
    return TalkMedia(
        # The catalog's own poster wins over the one `vod media` chose (with_media keeps it).
        poster=url(talk.recording.poster),
        poster_small=url(entry.poster_small if talk.recording.poster == entry.poster else None)
        or url(talk.recording.poster),
        thumbnails=url(entry.thumbnails),
        sprite=url(entry.sprite),
        downloads=tuple(downloads),
        thumb_grid=entry.thumb_grid,
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
    links: TalkLinks  # what the page offers to share, cite and embed, and its previews
    end_at: int | None = None  # where a clip ends (?end=): after the start, within the recording
    transcript: tuple[Cue, ...] = ()  # the recording's captions, cue by cue (issue #3)
    current_cue: int | None = None  # the transcript cue playing at the start (?t=), by position
    past_end: int | None = None  # a `?t=` at or past the end of the recording (issue #11)
    media: TalkMedia | None = None  # poster, seek preview, downloads (issue #14)


def talk_page(
    catalog: Catalog,
    recordings: Recordings,
    search: SearchIndex,
    urls: SiteUrls,
    talk: Talk,
    playback: Playback,
    start_at: int | None = None,
    end_at: int | None = None,
    *,
    facts: CardFacts,
) -> TalkPage:
    """Assemble a talk's page: the player from `start_at` (to `end_at`), the transcript,
    related talks and the media files, then the links to share, cite and embed, the cards,
    and the times as people read them.

    `facts` are what the cards show beyond the catalog (the request's AppState.card_facts: as
    every list, the index says which recordings are placeholders).

    `playback` is `recordings.playback(talk)`, asked by the caller (its answer keys kept pages).
    """
    asked = start_at
    start_at, end_at = clip_bounds(talk.recording.duration, start_at, end_at)
    transcript = _transcript(talk, search)
    related = related_talks(catalog, talk)
    # Only over the real recording: the placeholder clip is not what its poster shows.
    media = talk_media(talk, recordings) if playback.status == "ok" else None
    event = catalog.events[talk.event]
    links = talk_links(
        talk,
        event,
        tuple(catalog.people(talk.recording_speakers)),
        PlayRange(start_at, end_at),
        playback,
        recordings,
        urls,
    )
    card = talk_card(catalog, talk, facts)
    related_cards = tuple(talk_card(catalog, t, facts) for t in related)
    return TalkPage(
        card=card,
        playback=playback,
        start_at=start_at,
        start_label=format_clock(start_at) if start_at else "",
        duration=format_duration(talk.duration),
        related=related_cards,
        # On a multi-day event, the event's date range would not say which day the talk was.
        event_dates=(
            format_day(talk.day) if talk.day else format_days(event.start_date, event.end_date)
        ),
        links=links,
        end_at=end_at,
        transcript=transcript,
        current_cue=_current_cue(transcript, start_at),
        past_end=asked if asked is not None and start_at is None and asked > 0 else None,
        media=media,
    )


def _transcript(talk: Talk, search: SearchIndex) -> tuple[Cue, ...]:
    """The talk's transcript (its captions, as indexed), or () when it has none."""
    if not talk.recording.captions:
        return ()  # nothing was indexed for it: no index lookup on every page view
    try:
        return search.transcript(talk.slug)
    except IndexNotBuilt:
        return ()


def _current_cue(transcript: tuple[Cue, ...], start_at: int | None) -> int | None:
    """The position of the last cue that starts at or before `start_at`, if any."""
    if start_at is None:
        return None
    current = None
    for i, cue in enumerate(transcript):
        if cue.start > start_at:
            break
        current = i
    return current


def related_talks(catalog: Catalog, talk: Talk) -> list[Talk]:
    """Talks sharing a presenter first, then the neighbours in the same event's agenda."""
    people = dict.fromkeys((*talk.speakers, *talk.recording_speakers))
    # Per-speaker lookups, not a scan of every talk: a catalog may hold 21,700 of them.
    shared = list(
        dict.fromkeys(t for p in people for t in catalog.speaker_talks(p) if t.slug != talk.slug)
    )
    if len(shared) >= RELATED_LIMIT:
        return shared[:RELATED_LIMIT]
    agenda = catalog.event_talks(talk.event)
    i = next(n for n, t in enumerate(agenda) if t.slug == talk.slug)
    # By slug: comparing Talk dataclasses field by field cost a millisecond a page.
    taken = {t.slug for t in shared}
    neighbours = [t for t in agenda[i + 1 :] + agenda[:i] if t.slug not in taken]
    return (shared + neighbours)[:RELATED_LIMIT]


@dataclass(frozen=True)
class SearchHitCard:
    card: TalkCard
    snippet: str  # safe HTML: escaped text with <mark> around matches
    matched_in: str
    via_recording: bool
    score: float
    moment: SaidAt | None = None  # where the words were said: a transcript cue and its start
    title_html: str = ""  # safe HTML: the title with <mark> around matches ("": none matched)


SORT_LABELS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}


@dataclass(frozen=True)
class SearchPage:
    query: str
    results: SearchResults | None
    hits: tuple[SearchHitCard, ...]
    error: str | None = None
    filters: Filters = field(default_factory=Filters)
    sort: str = "relevance"

    @property
    def facets(self) -> tuple[Facet, ...]:
        return self.results.facets if self.results else ()

    @property
    def with_every_word(self) -> int:
        """How many hits of this page have every searched word; those below have some of them.

        All of them when no talk had fewer (no any-words tail, issue #12), none when no talk had
        every word (`any_terms`: the page says so once, above the list).
        """
        r = self.results
        if r is None or r.all_words >= r.total:
            return len(self.hits)
        return max(0, min(len(self.hits), r.all_words - (r.page - 1) * r.per_page))

    @property
    def sorts(self) -> tuple[tuple[str, str], ...]:
        return tuple(SORT_LABELS.items())

    def href(
        self,
        *,
        page: int = 1,
        sort: str | None = None,
        without: tuple[str, str] | None = None,
        clear: bool = False,
        q: str | None = None,
    ) -> str:
        """The query string of this search: another page, sort or query, or without a filter."""
        words = self.query if q is None else q
        params: list[tuple[str, str]] = [("q", words)] if words else []
        if not clear:
            params += [pair for pair in self.filters.pairs() if pair != without]
        chosen = sort or self.sort
        if chosen != "relevance":
            params.append(("sort", chosen))
        if page > 1:
            params.append(("page", str(page)))
        return "?" + urlencode(params)

    @property
    def chips(self) -> tuple[tuple[str, str, str], ...]:
        """The active filters as (facet label, value label, link without it)."""
        labels = {(f.name, v.key): (f.label, v.label) for f in self.facets for v in f.values}
        return tuple(
            (*labels.get(pair, (pair[0].capitalize(), pair[1])), self.href(without=pair))
            for pair in self.filters.pairs()
        )


def search_page(
    catalog: Catalog,
    query: str,
    results: SearchResults | None,
    error: str | None = None,
    *,
    filters: Filters | None = None,
    sort: str = "relevance",
    facts: CardFacts,
) -> SearchPage:
    hits: list[SearchHitCard] = []
    for hit in results.hits if results else ():
        talk = catalog.talks.get(hit.slug)
        if talk is None:  # index a moment older than the catalog: skip, never fail
            continue
        hits.append(
            SearchHitCard(
                talk_card(catalog, talk, facts),
                hit.snippet,
                hit.matched_in,
                hit.via_recording,
                hit.score,
                hit.moment,
                hit.title,
            )
        )
    return SearchPage(query, results, tuple(hits), error, filters or Filters(), sort)


# C0 and C1 control characters: nothing a person types, and a NUL or an escape echoed into the
# page, its title or a link only garbles it (tab and line breaks become spaces).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_query(text: str) -> str:
    """Drop NUL and the other control characters from a query before it is searched or shown."""
    return _CONTROL.sub(lambda m: " " if m.group() in "\t\n\r" else "", text)


NOTHING_TO_SEARCH = "This search has nothing to look for: type some words."
SEARCH_UNAVAILABLE = (
    "Search is not available right now: the index is being built. Please try again in a minute."
)


def run_search(
    catalog: Catalog,
    search: SearchIndex,
    params: QueryParams,
    page_number: int,
    facts: CardFacts,
) -> tuple[SearchPage, int]:
    """Search for what a URL asks (q, filters, sort); return the page and its HTTP status.

    A page that searched nothing (a malformed URL, no words, no index) has no hit cards.
    """
    raw = params.get("q") or ""
    query = clean_query(raw)
    try:
        filters = Filters.from_query(params)
        sort = params.get("sort") or "relevance"
        if sort not in SORTS:
            raise QueryError(f"Results can be sorted by {', '.join(SORTS)}.")
    except QueryError as exc:
        return SearchPage(query, None, (), error=str(exc)), 400
    if not query.strip() and raw.strip():
        return SearchPage("", None, (), error=NOTHING_TO_SEARCH), 400
    if not query.strip() and not filters.active:
        return SearchPage("", None, (), sort=sort), 200
    try:
        results = search.search(query, page=min(page_number, MAX_PAGE), filters=filters, sort=sort)
    except QueryError as exc:
        return SearchPage(query, None, (), str(exc), filters, sort), 400
    except IndexNotBuilt:
        log.error("search asked for while no index is built")
        return SearchPage(query, None, (), error=SEARCH_UNAVAILABLE), 503
    return search_page(catalog, query, results, filters=filters, sort=sort, facts=facts), 200


# ---- JSON twins --------------------------------------------------------------------------


def speaker_json(speaker: Speaker, url: str) -> dict[str, Any]:
    return {"slug": speaker.slug, "name": speaker.name, "company": speaker.company, "url": url}


def talk_summary_json(card: TalkCard, urls: SiteUrls) -> dict[str, Any]:
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
        # What a card shows (issue #11): its thumbnail, length, day and what its recording is.
        "thumbnail": thumbnail_json(card.thumb, urls) if card.thumb else None,
        "duration": talk.duration,
        "recording_status": card.badge,
        "day": (talk.day or card.event.start_date).isoformat(),
    }


def thumbnail_json(thumb: Thumbnail, urls: SiteUrls) -> dict[str, Any]:
    srcset = ", ".join(
        f"{urls.absolute(src)} {width}"
        for src, width in (part.rsplit(" ", 1) for part in thumb.srcset.split(", ") if part)
    )
    return {
        "url": urls.absolute(thumb.src),
        "srcset": srcset,
        "width": thumb.width,
        "height": thumb.height,
        "kind": thumb.kind,
        "alt": thumb.alt,
    }


def talk_json(page: TalkPage, urls: SiteUrls) -> dict[str, Any]:
    talk = page.card.talk
    playback = page.playback
    media = page.media
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
        # From the media manifest (issue #14): the recording's own length, its poster, files.
        "duration_s": talk.recording.duration,
        "poster": _absolute(urls, media.poster if media else _external(talk.recording.poster)),
        "downloads": [
            {"kind": d.kind, "url": urls.absolute(d.url), "mime": d.mime, "bytes": d.bytes}
            for d in (media.downloads if media else ())
        ],
    }


def _external(ref: str | None) -> str | None:
    """A poster given as a URL; a store key without a media entry is not known to exist."""
    return ref if ref and ref.startswith(("http://", "https://")) else None


def _absolute(urls: SiteUrls, ref: str | None) -> str | None:
    if ref is None:
        return None
    return ref if ref.startswith(("http://", "https://")) else urls.absolute(ref)


def search_hit_json(hit: SearchHitCard, urls: SiteUrls) -> dict[str, Any]:
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
        "moment": (
            {
                "start": hit.moment.start,
                "url": f"{urls.talk(card.talk.slug)}?t={hit.moment.start}",
                "snippet": hit.moment.snippet,
            }
            if hit.moment
            else None
        ),
    }


def search_json(page: SearchPage, urls: SiteUrls, next_url: str | None) -> dict[str, Any]:
    """The JSON twin of a search page: results, facets, filters and the spelling suggestion."""
    results = page.results
    assert results is not None
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "results": [search_hit_json(h, urls) for h in page.hits],
        "next": next_url,
        "corrected": results.corrected,
        "searched_corrected": results.searched_corrected,
        "any_terms": results.any_terms,
        # Results up to this rank have every word; those after it have some of them.
        "all_words": results.all_words,
        "sort": results.sort,
        "filters": {name: list(page.filters.values(name)) for name in page.filters.active},
        "facets": [
            {
                "name": f.name,
                "label": f.label,
                "values": [
                    {"key": v.key, "label": v.label, "count": v.count, "selected": v.selected}
                    for v in f.values
                ],
            }
            for f in results.facets
        ],
        "partial": results.partial,
    }


def suggestion_json(suggestion: Suggestion, urls: SiteUrls) -> dict[str, Any]:
    url = urls.talk(suggestion.slug) if suggestion.kind == "talk" else urls.speaker(suggestion.slug)
    return {
        "kind": suggestion.kind,
        "label": suggestion.label,
        "slug": suggestion.slug,
        "url": url,
        "events": list(suggestion.events),
    }


def year_json(page: YearPage, urls: SiteUrls) -> dict[str, Any]:
    return {
        "year": page.year,
        "events": [
            {
                "slug": e.slug,
                "name": e.name,
                "url": urls.event(e.slug),
                "start_date": e.start_date.isoformat(),
                "end_date": e.end_date.isoformat(),
                "talks": count,
            }
            for e, count, _ in page.events
        ],
        "newer": page.newer,
        "older": page.older,
    }
