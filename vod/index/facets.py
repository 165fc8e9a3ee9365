"""Facets and filters: event, speaker, company, year and "has a recording", counted per search.

Each talk's facet values are few and fixed for an index version, so the build writes them beside
the index (facets.json) and a worker loads them once per version, by document number. A search
collects the numbers of every matching document (searcher.py); filtering is then a set lookup
and counting a `Counter` over those numbers. bench/bench_search.py measures this against
Whoosh's own `filter=` queries and `groupedby=` facets on the pyvideo corpus.

Counts are disjunctive, as in most shops' filters: a facet's counts apply every *other* facet's
selection, so ticking one event still shows how many results each other event would add.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from vod.errors import QueryError
from vod.index.schema import facet_key

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk

FACETS_FILE = "facets.json"
FACET_NAMES = ("event", "speaker", "company", "year", "recording")
FACET_LABELS = {
    "event": "Event",
    "speaker": "Speaker",
    "company": "Company",
    "year": "Year",
    "recording": "Recording",
}
RECORDING_LABELS = {"1": "Has a recording", "0": "No recording yet"}
TOP_VALUES = 10  # values listed per facet, most frequent first; selected ones are always listed
MAX_FILTER_VALUES = 20  # values one facet may select at once
MAX_FILTER_LENGTH = 200  # characters of one value: slugs and years are far shorter
_MULTI = frozenset({"speaker", "company"})  # a talk has several speakers and companies


class QueryParams(Protocol):
    """What filters are read from: a URL's query parameters (Starlette's QueryParams)."""

    def get(self, key: str) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


def facet_record(catalog: Catalog, talk: Talk, document: dict[str, Any]) -> dict[str, Any]:
    """Return what facets.json keeps of one talk (from its index document)."""
    return {
        "slug": talk.slug,
        "title": talk.title or "",
        "date": document["date"],
        "event": talk.event,
        "year": document["year"],
        "recording": document.get("has_recording", "1"),
        "speaker": document["speaker_slugs"].split(),
        "company": document["company_keys"].split(),
    }


@dataclass(frozen=True)
class Filters:
    """The facet values a search is limited to: any of a facet's values, every facet."""

    event: tuple[str, ...] = ()
    speaker: tuple[str, ...] = ()
    company: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    recording: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, params: QueryParams) -> Filters:
        """Read the filters of a search from its URL parameters; QueryError if malformed."""
        chosen: dict[str, tuple[str, ...]] = {}
        for name in FACET_NAMES:
            values = tuple(dict.fromkeys(v.strip() for v in params.getlist(name) if v.strip()))
            if len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_FILTER_LENGTH for v in values):
                raise QueryError(
                    f"Too many or too long {name} filters; use at most {MAX_FILTER_VALUES}."
                )
            if name == "year" and not all(
                v.isascii() and v.isdigit() and len(v) == 4 for v in values
            ):
                raise QueryError("A year filter is a year, like year=2024.")
            if name == "recording" and not set(values) <= {"1", "0"}:
                raise QueryError("The recording filter is recording=1 (has one) or recording=0.")
            chosen[name] = values
        return cls(**chosen)

    def values(self, name: str) -> tuple[str, ...]:
        values: tuple[str, ...] = getattr(self, name)
        return values

    @property
    def active(self) -> tuple[str, ...]:
        """The facets with a selection."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name))

    def pairs(self) -> list[tuple[str, str]]:
        """The selection as URL parameters, in a stable order."""
        return [(name, value) for name in FACET_NAMES for value in self.values(name)]


@dataclass(frozen=True)
class FacetValue:
    key: str  # what goes in the URL: an event or speaker slug, a company key, a year, 1 or 0
    label: str
    count: int  # results with this value, given the other facets' selection
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: tuple[FacetValue, ...]


def facets_file(catalog: Catalog, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Return facets.json: each facet's keys and labels, and each talk's values as numbers.

    Columns of numbers, in document order, load in a few milliseconds; a record per talk took
    half a second to load and map on the pyvideo corpus.
    """
    labels: dict[str, dict[str, str]] = {
        "event": {e.slug: e.name for e in catalog.events.values()},
        "speaker": {s.slug: s.display_name for s in catalog.speakers.values()},
        "company": {},
        "year": {},
        "recording": RECORDING_LABELS,
    }
    for speaker in catalog.speakers.values():
        if speaker.company:
            labels["company"].setdefault(facet_key(speaker.company), speaker.company)
    facets: dict[str, Any] = {}
    for name in FACET_NAMES:
        index: dict[str, int] = {}
        docs: list[Any] = []
        for record in records:
            ids = [index.setdefault(k, len(index)) for k in _as_list(record.get(name))]
            docs.append(ids if name in _MULTI else (ids[0] if ids else -1))
        keys = list(index)
        facets[name] = {
            "keys": keys,
            "labels": [labels[name].get(k) or k for k in keys],
            "docs": docs,
        }
    on_talks = set(facets["speaker"]["keys"])  # once: a set per speaker took 4 s on pyvideo
    return {
        "slugs": [r["slug"] for r in records],
        "titles": [r["title"] for r in records],
        "dates": [r["date"] for r in records],
        "facets": facets,
        # Names and aliases of the speakers on some talk, for suggestions as you type.
        "people": {
            s.slug: [s.display_name, *s.aliases]
            for s in catalog.speakers.values()
            if s.slug in on_talks
        },
    }


class _Field:
    """One facet: its keys and labels, and each document's values (numbers into the keys)."""

    def __init__(self, name: str, raw: dict[str, Any], order: list[int] | None) -> None:
        self.name = name
        self.keys: list[str] = list(raw["keys"])
        self.labels: list[str] = list(raw["labels"])
        self.index = {k: i for i, k in enumerate(self.keys)}
        docs = raw["docs"] if order is None else [raw["docs"][i] for i in order]
        self.multi = name in _MULTI
        # Multi-valued: a list of value numbers per document; single: a number, -1 for none.
        self.per_doc: list[Any] = [tuple(ids) for ids in docs] if self.multi else list(docs)
        self._docsets: dict[int, frozenset[int]] = {}

    def docset(self, i: int) -> frozenset[int]:
        """The documents with value number `i` (found by one scan, then remembered)."""
        found = self._docsets.get(i)
        if found is None:
            if self.multi:
                found = frozenset(d for d, ids in enumerate(self.per_doc) if i in ids)
            else:
                found = frozenset(d for d, v in enumerate(self.per_doc) if v == i)
            self._docsets[i] = found
        return found

    def docs_with(self, keys: Iterable[str]) -> frozenset[int]:
        sets = [self.docset(self.index[k]) for k in keys if k in self.index]
        if not sets:
            return frozenset()
        return sets[0] if len(sets) == 1 else frozenset().union(*sets)

    def count(self, docs: Iterable[int]) -> Counter[int]:
        if self.multi:
            return Counter(chain.from_iterable(map(self.per_doc.__getitem__, docs)))
        counts = Counter(map(self.per_doc.__getitem__, docs))
        counts.pop(-1, None)
        return counts


class FacetTable:
    """The facet values, dates, titles and speakers of one index version, by document number."""

    def __init__(self, raw: dict[str, Any], slugs: Sequence[str]) -> None:
        written = raw.get("slugs", [])
        # Documents are written in catalog order; map them anyway if the index says otherwise.
        order = None
        if list(slugs) != written:
            position = {slug: i for i, slug in enumerate(written)}
            order = [position.get(slug, -1) for slug in slugs]  # -1: a row of no values
        self.doc_count = len(slugs)
        self.slugs = list(slugs)
        self.titles: list[str] = _column(raw.get("titles", []), order, "")
        self.dates: list[int] = _column(raw.get("dates", []), order, 0)
        self.speaker_names: dict[str, list[str]] = raw.get("people", {})
        facets = raw.get("facets", {})
        self.fields = {}
        for name in FACET_NAMES:
            blank: Any = [] if name in _MULTI else -1
            facet = facets.get(name) or {"keys": [], "labels": [], "docs": [blank] * len(written)}
            if order is not None:
                facet = {**facet, "docs": [*facet["docs"], blank]}
            self.fields[name] = _Field(name, facet, order)

    @classmethod
    def load(cls, folder: Path, slugs: Sequence[str]) -> FacetTable:
        """Load facets.json of an index version; `slugs` gives each document number's talk."""
        raw = json.loads((folder / FACETS_FILE).read_text())
        return cls(raw, slugs)

    def allowed(self, filters: Filters, skip: str | None = None) -> frozenset[int] | None:
        """Return the documents every selected facet (but `skip`) allows; None: no limit."""
        allowed: frozenset[int] | None = None
        for name in filters.active:
            if name == skip:
                continue
            docs = self.fields[name].docs_with(filters.values(name))
            allowed = docs if allowed is None else allowed & docs
        return allowed

    def facets(self, seen: Sequence[int], filters: Filters) -> tuple[Facet, ...]:
        """Count each facet's values over the matched documents `seen` (disjunctively)."""
        active = filters.active
        out = []
        for name in FACET_NAMES:
            field = self.fields[name]
            others = self.allowed(filters, skip=name) if active else None
            docs: Iterable[int] = seen if others is None else [d for d in seen if d in others]
            counts = field.count(docs)
            selected = filters.values(name)
            if name in ("year", "recording"):  # every value, newest year (or "1") first
                top = sorted(counts, key=lambda i: field.keys[i], reverse=True)
            else:
                top = [i for i, _ in counts.most_common(TOP_VALUES)]
            values = [
                FacetValue(field.keys[i], field.labels[i], counts[i], field.keys[i] in selected)
                for i in top
            ]
            listed = {v.key for v in values}
            for key in selected:
                if key not in listed:  # a selection with no results stays visible, to untick
                    i = field.index.get(key)
                    label = field.labels[i] if i is not None else key
                    values.append(FacetValue(key, label, counts[i] if i is not None else 0, True))
            out.append(Facet(name, FACET_LABELS[name], tuple(values)))
        return tuple(out)


def _column(values: list[Any], order: list[int] | None, blank: Any) -> list[Any]:
    if order is None:
        return list(values)
    return [values[i] if 0 <= i < len(values) else blank for i in order]


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]
