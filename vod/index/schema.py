"""The Whoosh schema, and how one talk becomes one index document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk

# English text: words folded to ASCII, lowercased, stop words dropped, stemmed
# (so `deploying` finds `deployment`). Snowball's English stemmer (Porter2): Whoosh's default
# Porter stems `deploying` to `deploi` but `deployment` to `deployment`, and `running` to `runn`.
# Words, keeping `node.js` and `2.7` whole but splitting a missing space after a full stop
# (`subsystems.We` in a real abstract), which Whoosh's default pattern glues into one token.
WORD_PATTERN = r"\w+(?:\.(?![A-Z])\w+)*"

TEXT_ANALYZER = (
    RegexTokenizer(WORD_PATTERN)
    | LowercaseFilter()
    | CharsetFilter(accent_map)
    | StopFilter()
    | StemFilter(lang="en")
)
# Names and companies: folded and lowercased but not stemmed, so `Kim` never matches `kimmed`.
NAME_ANALYZER = RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)

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
}
# Fields searched by plain words, with their weight: title, then presenters, then
# session/company, then the abstract.
FIELD_BOOSTS = {
    "title": 4.0,
    "people": 3.0,
    "company": 1.5,
    "session": 1.5,
    "tags": 1.5,
    "event": 1.0,
    "abstract": 1.0,
}


def make_schema() -> Schema:
    """Return the schema every index version is written with."""
    return Schema(
        slug=ID(stored=True, unique=True),
        title=TEXT(analyzer=TEXT_ANALYZER, stored=True, spelling=True),
        abstract=TEXT(analyzer=TEXT_ANALYZER, stored=True, spelling=True),
        # Everyone on the talk, live and recorded, with aliases: what `speaker:` searches.
        people=TEXT(analyzer=NAME_ANALYZER, spelling=True),
        # Stored separately so a snippet can say which list a name matched in.
        speakers=TEXT(analyzer=NAME_ANALYZER, stored=True),
        recording_speakers=TEXT(analyzer=NAME_ANALYZER, stored=True),
        company=TEXT(analyzer=NAME_ANALYZER, phrase=False),
        session=TEXT(analyzer=TEXT_ANALYZER),
        event=TEXT(analyzer=TEXT_ANALYZER, phrase=False),
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),
        event_slug=ID(stored=True),
        year=ID(stored=True),
        start=NUMERIC(stored=True, sortable=True, bits=64),
        position=STORED(),
    )


def talk_document(catalog: Catalog, talk: Talk) -> dict[str, Any]:
    """Return the index document of one talk."""
    event = catalog.events[talk.event]
    live = catalog.people(talk.speakers)
    recorded = catalog.people(talk.recording_speakers)
    everyone = {s.slug: s for s in [*live, *recorded]}.values()
    names = [n for s in everyone for n in (s.name, *s.aliases) if n]
    companies = sorted({s.company for s in everyone if s.company})
    return {
        "slug": talk.slug,
        "title": talk.title or "",
        "abstract": talk.abstract or "",
        "people": " ; ".join(names),
        "speakers": " ; ".join(s.name for s in live if s.name),
        "recording_speakers": " ; ".join(s.name for s in recorded if s.name),
        "company": " ; ".join(companies),
        "session": talk.session or "",
        "event": f"{event.name} {event.slug}",
        "tags": ",".join(talk.tags),
        "event_slug": event.slug,
        "year": str(event.year),
        "start": int(talk.start.timestamp()) if talk.start else 0,
        "position": talk.position,
    }
