"""Query shapes whose cost has no bound are rewritten or refused before they run (issue #10).

The parser turns some input into queries that touch every document or read the same long
posting list many times over. Measured on the 21.7k-talk pyvideo catalog before these guards:
`x\\ *` (an escaped blank that leaves a lone `*`) searched `Every` term of eight fields for
5 s; `python \\ *` took 9 s and `a<U+3000>ANDNOT(zpython\\<TAB>*` 13 s, pinning a core each;
a quoted phrase of one frequent word 31 times took 1.3 s. The time budget (budget.py) stops a
scan, but not the building of such a matcher, so these shapes must never reach it:

- `Every` (a lone `*`, in a field or not) matches every talk: it is dropped, and a query with
  nothing else left is refused with a message.
- A query of words to leave out only (`-python`) would list every other talk: refused.
- A phrase reads each of its words' positions: at most MAX_PHRASE_WORDS words, and a word
  repeated in a row is searched once (`"python python"` read python's positions in 12k talks
  for 130 ms; it finds what `python` does, give or take a talk that stutters).
- A term of no field (the parser makes `Term(None, "^3")` of `new ( ^3 lightning`) is dropped.
- Any leaf type this module does not know is dropped, so a parser plugin added later cannot
  bring in a new unbounded shape unnoticed.

Everything else is bounded elsewhere: the text's size and number of words (query.py), prefixes
(expanded to a few dozen terms, query.py), and the scan (the budget, scoring.py).
"""

from __future__ import annotations

import logging

from whoosh import query as wq

from vod.errors import QueryError

log = logging.getLogger(__name__)

MAX_PHRASE_WORDS = 8  # a longer quote keeps its first words: they still find the talk
MAX_REPEATS = 1  # a word repeated in a row, in a phrase, is searched once
# Leaves whose cost is bounded: a term reads one posting list, a phrase a few (bounded above),
# a prefix is expanded to a few dozen terms before it runs (query.expand_prefixes).
_BOUNDED_LEAVES = (wq.Term, wq.Phrase, wq.Prefix)
_COMPOUNDS = (wq.And, wq.Or, wq.AndNot, wq.AndMaybe, wq.Require, wq.Not)


# Set on a query known to be normalized and bounded (query.py marks the parses of plain words):
# guard() returns it as it is, without walking and hashing every term again.
_BOUNDED = "_vod_bounded"


def mark_bounded(q: wq.Query) -> wq.Query:
    """Mark `q` as normalized and made of bounded parts only; return it."""
    setattr(q, _BOUNDED, True)
    return q


def guard(q: wq.Query) -> wq.Query:
    """Return `q` with its unbounded parts rewritten; raise QueryError if nothing is left."""
    if getattr(q, _BOUNDED, False):
        return q
    safe = _rewrite(q).normalize()
    if safe is wq.NullQuery or not _has_positive(safe):
        raise QueryError(_refusal(q))
    return safe


def _refusal(q: wq.Query) -> str:
    parts = _all(q)
    if any(isinstance(part, wq.Every) for part in parts):
        return "A lone * would match every talk; type a word, or the start of one (3 letters)."
    if any(isinstance(part, wq.Not) for part in parts):
        return "Add a word to search for: a search cannot be only words to leave out."
    return "That search has nothing to look for; type a word to find."


def _rewrite(q: wq.Query) -> wq.Query:
    if q is wq.NullQuery:
        return q
    if isinstance(q, wq.Every):
        return wq.NullQuery
    if isinstance(q, wq.Phrase):
        return _bounded_phrase(q)
    if isinstance(q, _BOUNDED_LEAVES):
        # The parser leaves a term of no field for some syntax runs (`new ( ^3 lightning`).
        return q if isinstance(q.fieldname, str) else wq.NullQuery
    if isinstance(q, wq.AndMaybe):
        # `x ANDMAYBE NOT y` (from `+ x NOT y`): an optional part that only leaves out adds
        # nothing to a score, and would send the whole query to Whoosh's collector.
        a, b = _rewrite(q.a), _rewrite(q.b)
        return wq.AndMaybe(a, b) if _has_positive(b) else a
    if isinstance(q, wq.AndNot):
        # `x ANDNOT NOT y` leaves out what does not have y: it is `x AND y`. A part to leave out
        # that is itself only words to leave out would send the query to Whoosh's collector.
        a, b = _rewrite(q.a), _rewrite(q.b)
        if isinstance(b, wq.Not):
            return wq.And([a, b.query])
        return wq.AndNot(a, b) if _has_positive(b) else a
    if isinstance(q, _COMPOUNDS):
        return q.apply(_rewrite)
    log.warning("query part %r is not a known bounded shape; dropped", type(q).__name__)
    return wq.NullQuery


def _bounded_phrase(q: wq.Phrase) -> wq.Query:
    words: list[str] = []
    for word in q.words:
        if len(words) >= MAX_REPEATS and all(w == word for w in words[-MAX_REPEATS:]):
            continue
        words.append(word)
    words = words[:MAX_PHRASE_WORDS]
    if words == list(q.words):
        return q
    if len(words) == 1:
        return wq.Term(q.fieldname, words[0], boost=q.boost)
    return wq.Phrase(q.fieldname, words, slop=q.slop, boost=q.boost)


def _has_positive(q: wq.Query) -> bool:
    """Tell whether `q` requires something to match (not only words to leave out)."""
    if q is wq.NullQuery:
        return False
    if isinstance(q, wq.Not):
        return False
    if isinstance(q, wq.Or):
        return all(_has_positive(sub) for sub in q.subqueries)
    if isinstance(q, wq.And):
        return any(_has_positive(sub) for sub in q.subqueries)
    if isinstance(q, wq.AndNot | wq.AndMaybe | wq.Require):
        return _has_positive(q.a)
    return True


def _all(q: wq.Query) -> list[wq.Query]:
    if q.is_leaf():
        return [q]
    return [q, *(part for sub in q.children() for part in _all(sub))]
