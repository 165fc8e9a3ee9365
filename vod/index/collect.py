"""Gather every match of a query once: its document number for the facets, its score for ranking.

Whoosh's TopCollector keeps the top N and counts the rest, but it also swaps its matcher for a
cheaper one as the N-th best score rises (`Matcher.replace`), which drops documents that could no
longer reach the top N. With `optimize=False` it skips no blocks, yet the swaps remain: on the
pyvideo corpus `pyth*` counted 1,716 of its 12,124 matches. Facets and an exact count need every
match, so this collector steps the matcher itself, without swaps, and stops at a deadline.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from whoosh import collectors
from whoosh import query as wq

from vod.index import budget

CHECK_EVERY = 512  # matches between looks at the clock


@dataclass
class Matches:
    """The documents a query matched, and the scores of those the filters allow."""

    seen: Sequence[int] = ()  # every matching document number, filters or not (for facets)
    scored: list[tuple[float, int]] = field(default_factory=list)  # (score, -docnum), allowed
    partial: bool = False  # the deadline passed before every match was read

    @property
    def total(self) -> int:
        return len(self.scored)


class _Everything(collectors.Collector):  # type: ignore[misc]
    def __init__(self, allowed: frozenset[int] | None, deadline: float) -> None:
        self.allowed = allowed
        self.deadline = deadline
        self.found = Matches([], [])

    def collect_matches(self) -> None:
        matcher = self.matcher
        offset = self.offset
        allowed = self.allowed
        seen = self.found.seen
        scored = self.found.scored
        assert isinstance(seen, list)
        n = 0
        while matcher.is_active():
            docnum = offset + matcher.id()
            seen.append(docnum)
            if allowed is None or docnum in allowed:
                scored.append((matcher.score(), -docnum))
            n += 1
            if n % CHECK_EVERY == 0 and budget.now() > self.deadline:
                self.found.partial = True
                return
            matcher.next()

    def collect(self, sub_docnum: int) -> None:  # pragma: no cover - collect_matches does it
        raise NotImplementedError

    def sort_key(self, sub_docnum: int) -> float:  # pragma: no cover
        return 0.0

    def results(self) -> Matches:
        return self.found


def collect(
    searcher: Any, query: wq.Query, allowed: frozenset[int] | None, deadline: float
) -> Matches:
    """Run `query`, keeping every match; scores only for documents `allowed` (None: all)."""
    if query is wq.NullQuery:
        return Matches([], [])
    collector = _Everything(allowed, deadline)
    searcher.search_with_collector(query, collector)
    return collector.results()


def browse(doc_count: int, allowed: frozenset[int] | None) -> Matches:
    """Every document, as if each matched: a search by filters alone."""
    everything = range(doc_count)
    docs: Iterable[int] = sorted(allowed) if allowed is not None else everything
    return Matches(everything, [(0.0, -d) for d in docs])


def top_in_order(
    scored: list[tuple[float, int]], sort: str, dates: Sequence[int], count: int
) -> list[tuple[float, int]]:
    """Return the first `count` of (score, -docnum) in `sort` order; ties keep catalog order."""
    if sort == "newest":
        return heapq.nlargest(count, scored, key=lambda s: (dates[-s[1]], s[0], s[1]))
    if sort == "oldest":
        return heapq.nsmallest(count, scored, key=lambda s: (dates[-s[1]], -s[0], -s[1]))
    return heapq.nlargest(count, scored)


def field_terms(query: wq.Query | None) -> dict[str, frozenset[str]]:
    """Return the words a query searches in each field (after analysis and prefix expansion)."""
    found: dict[str, set[str]] = {}
    if query is None:
        return {}
    for fieldname, text in query.iter_all_terms(phrases=True):
        word = text.decode("utf-8") if isinstance(text, bytes) else str(text)
        found.setdefault(fieldname, set()).add(word)
    return {name: frozenset(words) for name, words in found.items()}
