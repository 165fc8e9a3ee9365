"""The Whoosh schema, and how one talk becomes one index document."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

# Re-exported: the analyzers live in analysis.py, and callers know them from here too.
from vod.index.analysis import NAME_ANALYZER as NAME_ANALYZER
from vod.index.analysis import TEXT_ANALYZER as TEXT_ANALYZER
from vod.index.snippets import WORD_STREAMS, word_stream

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk

# Fields a user may name in a query (`speaker:rasley`), and the index field each searches.
QUERY_FIELDS = {
    "title": "title",
    "abstract": "abstract",
    "speaker": "people",
    "speakers": "people",
    "presenter": "people",
    "company": "company",
    "session": "session",
    "event": "event",
    "tag": "tags",
    "year": "year",
    "transcript": "transcript",
    "said": "transcript",
}
# Fields searched by plain words, with their weight: title, then presenters, then
# session/company, then the abstract, then what was said in the recording (captions are long
# and loosely worded, so a word there says less about what the talk is about).
FIELD_BOOSTS = {
    "title": 4.0,
    "people": 3.0,
    "company": 1.5,
    "session": 1.5,
    "tags": 1.5,
    "event": 1.0,
    "abstract": 1.0,
    "transcript": 0.5,
}


def make_schema() -> Schema:
    """Return the schema every index version is written with."""
    return Schema(
        # Sortable: the column maps document numbers to slugs in one read (facets.py).
        slug=ID(stored=True, unique=True, sortable=True),
        title=TEXT(analyzer=TEXT_ANALYZER, stored=True, spelling=True),
        abstract=TEXT(analyzer=TEXT_ANALYZER, stored=True, spelling=True),
        # The analysed words and their spans of each text a snippet marks (the abstract, the
        # title, the presenters), so a hit need not analyse them again.
        **{stream_field: STORED() for stream_field, _, _ in WORD_STREAMS.values()},
        # Everyone on the talk, live and recorded, with aliases: what `speaker:` searches.
        people=TEXT(analyzer=NAME_ANALYZER, spelling=True),
        # Stored only, so a snippet can say which list a name matched in; `people` is searched.
        speakers=STORED(),
        recording_speakers=STORED(),
        company=TEXT(analyzer=NAME_ANALYZER, phrase=False),
        session=TEXT(analyzer=TEXT_ANALYZER),
        event=TEXT(analyzer=TEXT_ANALYZER, phrase=False),
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),
        # What was said in the recording (its captions), with positions for quoted phrases;
        # the cues, with their start times, are stored so a hit can link to the moment.
        transcript=TEXT(analyzer=TEXT_ANALYZER),
        cues=STORED(),
        # Facets and filters: exact keys, never analysed.
        event_slug=ID(stored=True),
        year=ID(stored=True),
        speaker_slugs=KEYWORD(),
        company_keys=KEYWORD(),
        has_recording=ID(),
        # The talk's start, or its event's first day when the time is not published.
        date=NUMERIC(stored=True, sortable=True, bits=64, signed=True),
        position=STORED(),
    )


def facet_key(text: str) -> str:
    """Return the URL key of a facet value (a company name): ASCII, lowercase, hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80]


def talk_date(catalog: Catalog, talk: Talk) -> int:
    """Return when a talk happened, as a Unix time: its start, else its day, else its event's."""
    if talk.start is not None:
        return int(talk.start.timestamp())
    event = catalog.events[talk.event]
    try:
        zone: Any = ZoneInfo(event.timezone)
    except (KeyError, ValueError):
        zone = None
    day = talk.date or event.start_date
    return int(datetime.combine(day, time(0, 0), tzinfo=zone).timestamp())


def talk_document(catalog: Catalog, talk: Talk) -> dict[str, Any]:
    """Return the index document of one talk."""
    event = catalog.events[talk.event]
    live = catalog.people(talk.speakers)
    recorded = catalog.people(talk.recording_speakers)
    everyone = {s.slug: s for s in [*live, *recorded]}.values()
    names = [n for s in everyone for n in (s.name, *s.aliases) if n]
    companies = sorted({s.company for s in everyone if s.company})
    company_keys = dict.fromkeys(k for k in map(facet_key, companies) if k)
    abstract = talk.abstract or ""
    document: dict[str, Any] = {
        "slug": talk.slug,
        "title": talk.title or "",
        "abstract": abstract,
        "people": " ; ".join(names),
        "speakers": " ; ".join(s.name for s in live if s.name),
        "recording_speakers": " ; ".join(s.name for s in recorded if s.name),
        "company": " ; ".join(companies),
        "session": talk.session or "",
        "event": f"{event.name} {event.slug}",
        "tags": ",".join(talk.tags),
        "event_slug": event.slug,
        "year": str(event.year),
        "speaker_slugs": " ".join(s.slug for s in everyone),
        "company_keys": " ".join(company_keys),
        "date": talk_date(catalog, talk),
        "position": talk.position,
    }
    for name, (stream_field, analyzer, _) in WORD_STREAMS.items():
        text = document[name]
        stream = word_stream(text, analyzer) if text else None
        if stream is not None:
            document[stream_field] = stream
    return document
