"""Score a query the way Whoosh's BM25F does, one posting list at a time instead of one document.

Whoosh finds matches by stepping a tree of matchers a document at a time, asking every level
whether it is still active: on the pyvideo corpus `python` (12k matches in eight fields) took
50-110 ms even with the array union. This module reads each term's posting blocks whole
(document numbers and term frequencies as arrays), scores them with the same BM25F formula and
statistics, and combines the per-term results as dictionaries: OR adds, AND intersects (the
rarest word first, so blocks without a candidate are never decoded), AND NOT removes.

The scores are Whoosh's own (tests/test_search_index.py::test_posting_list_scores_equal_whooshs
compares them, document by document).
A query shape it does not know (a phrase, a range) is scored by Whoosh's matcher for that part
only; a query it cannot take at all returns None, and the caller uses Whoosh's collector.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.scoring import BM25F

from vod.index import budget

Scores = dict[int, float]
# Posting lists of at least CACHE_MIN documents are decoded once and kept, up to CACHE_POSTINGS
# postings per index version (12 bytes each: ~12 MB). Decoding is the cost of a frequent term
# (about 0.7 us a posting: `python` has 20k in eight fields), and frequent terms are the ones
# searched again and again.
CACHE_MIN = 256
CACHE_POSTINGS = 1_000_000
FREQUENT_FILE = "frequent.json"  # the terms a new version decodes first, chosen by the build
FREQUENT_TERMS = 300  # terms listed, the most used first, over every searched field


def write_frequent_terms(reader: Any, folder: Path, fields: Iterable[str]) -> None:
    """List the most used terms of `fields` (worth decoding ahead), for FREQUENT_FILE."""
    found: list[tuple[int, str, str]] = []
    for fieldname in fields:
        if fieldname not in reader.schema or not reader.schema[fieldname].scorable:
            continue
        for term, info in reader.iter_field(fieldname):
            df = info.doc_frequency()
            if df >= CACHE_MIN:
                text = term.decode("utf-8") if isinstance(term, bytes) else str(term)
                found.append((df, fieldname, text))
    found.sort(reverse=True)
    listed = [[fieldname, text] for _, fieldname, text in found[:FREQUENT_TERMS]]
    (folder / FREQUENT_FILE).write_text(json.dumps(listed, ensure_ascii=False))


def read_frequent_terms(folder: Path) -> list[tuple[str, str]]:
    """The terms FREQUENT_FILE lists (none when the version has no such file)."""
    try:
        return [(str(f), str(t)) for f, t in json.loads((folder / FREQUENT_FILE).read_text())]
    except (OSError, ValueError, TypeError):
        return []


class OutOfTime(Exception):
    """The query's time budget ran out before every posting list was read."""


class Unsupported(Exception):
    """A query shape this module does not score (the caller falls back to Whoosh)."""


class BM25Scorer:
    """Scores for one searcher (one index version); field length norms cached per field."""

    def __init__(self, searcher: Any, fields: Iterable[str] = ()) -> None:
        """Prepare scoring on `searcher`; the length norms of `fields` are computed now."""
        self.searcher = searcher
        self.reader = searcher.reader()
        weighting = searcher.weighting
        self.usable = isinstance(weighting, BM25F) and self.reader.is_atomic()
        self.B = getattr(weighting, "B", 0.75)
        self.K1 = getattr(weighting, "K1", 1.2)
        self.field_B: dict[str, float] = dict(getattr(weighting, "_field_B", {}))
        self.doc_count = int(self.reader.doc_count_all())
        self._norms: dict[str, list[float]] = {}
        # Decoded posting lists of frequent terms: (document numbers, unboosted scores).
        self._cache: OrderedDict[tuple[str, bytes], tuple[array[int], array[float]]] = OrderedDict()
        self._cached_postings = 0
        if self.usable:
            for fieldname in fields:  # ~25 ms a field on pyvideo: at open, not in a search
                if fieldname in searcher.schema and searcher.schema[fieldname].scorable:
                    self._norm(fieldname)

    def _norm(self, fieldname: str) -> list[float]:
        """K1 * (1 - B + B * length / average length), for each document."""
        norms = self._norms.get(fieldname)
        if norms is None:
            searcher = self.searcher
            b = self.field_B.get(fieldname, self.B)
            avg = searcher.avg_field_length(fieldname) or 1
            k1 = self.K1
            # A document without the field has length 0; it has no posting there either.
            lengths = _field_lengths(searcher, fieldname, self.doc_count)
            norms = [k1 * ((1 - b) + b * (fl or 1) / avg) for fl in lengths]
            self._norms[fieldname] = norms
        return norms

    def cached(self, key: tuple[str, bytes]) -> tuple[array[int], array[float]] | None:
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
        return found

    def remember(self, key: tuple[str, bytes], ids: array[int], scores: array[float]) -> None:
        """Keep a decoded posting list, forgetting the least recently used beyond the budget."""
        self._cache[key] = (ids, scores)
        self._cached_postings += len(ids)
        while self._cached_postings > CACHE_POSTINGS and len(self._cache) > 1:
            _, (old, _) = self._cache.popitem(last=False)
            self._cached_postings -= len(old)

    def weigh(
        self, fieldname: str, btext: bytes, boost: float
    ) -> Callable[[Any, Any], list[float]]:
        """The BM25F score of each posting of a term, from its frequency and document."""
        searcher = self.searcher
        if not searcher.schema[fieldname].scorable:

            def frequencies(ids: Any, tfs: Any) -> list[float]:
                return [tf * boost for tf in tfs]

            return frequencies
        idf = searcher.idf(fieldname, btext)
        norms = self._norm(fieldname)
        factor = idf * (self.K1 + 1) * boost

        def bm25(ids: Any, tfs: Any) -> list[float]:
            return [factor * tf / (tf + norms[d]) for d, tf in zip(ids, tfs, strict=True)]

        return bm25

    def decode(
        self, fieldname: str, btext: bytes, run: _Run | None = None
    ) -> tuple[array[int], array[float]]:
        """Read a whole posting list with its unboosted scores, and keep it (see CACHE_MIN)."""
        postings = self.reader.postings(fieldname, btext)
        run = run or _Run(self, float("inf"))
        unboosted = run._read(postings, None, self.weigh(fieldname, btext, 1.0))
        decoded = (array("I", unboosted), array("d", unboosted.values()))
        self.remember((fieldname, btext), *decoded)
        return decoded

    def warm(self, terms: Iterable[tuple[str, str]], postings: int, hold: Callable[[], Any]) -> int:
        """Decode frequent terms (FREQUENT_FILE) ahead of searches, up to `postings` postings.

        `hold()` gives a context that keeps the index open for one term (false: it closed).
        The most frequent words cost most to decode, and they are the ones searched most.
        """
        done = 0
        for fieldname, text in terms:
            btext = text.encode("utf-8")
            with hold() as still_open:
                if not still_open:
                    return done
                if (fieldname, btext) not in self.reader:
                    continue
                df = int(self.reader.doc_frequency(fieldname, btext))
                if done + df > postings:
                    return done
                if self.cached((fieldname, btext)) is None:
                    self.decode(fieldname, btext)
            done += df
        return done

    def score(self, q: wq.Query, deadline: float) -> Scores | None:
        """Return {document number: score} for every match of `q`, or None if unsupported.

        Raise OutOfTime when `deadline` (a vod.index.budget.now() value) passes.
        """
        return self.score_within(q, None, deadline)

    def score_within(self, q: wq.Query, docs: set[int] | None, deadline: float) -> Scores | None:
        """Like score(), for the documents `docs` only (None: every document)."""
        if not self.usable:
            return None
        try:
            return _Run(self, deadline).scores(q, docs)
        except Unsupported:
            return None


def _field_lengths(searcher: Any, fieldname: str, doc_count: int) -> list[int]:
    """Each document's length in a field, as Whoosh's scorer sees it (a one-byte estimate)."""
    try:
        # Whoosh 3 keeps lengths in a column per field; reading it whole is 60x faster than
        # asking doc_field_length() per document (which looks for the column file each time).
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        column = searcher.reader()._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is not None:
            table = [byte_to_length(n) for n in range(256)]
            lengths = [table[n] if n else 0 for n in column]
            if len(lengths) == doc_count:
                return lengths
    except (AttributeError, ImportError, TypeError, KeyError):
        pass
    return [searcher.doc_field_length(d, fieldname, 0) or 0 for d in range(doc_count)]


class _Run:
    def __init__(self, scorer: BM25Scorer, deadline: float) -> None:
        self.scorer = scorer
        self.deadline = deadline

    def _tick(self) -> None:
        if budget.now() > self.deadline:
            raise OutOfTime

    def scores(self, q: wq.Query, within: set[int] | None) -> Scores:
        """Score `q`; with `within`, only those documents (the others are not read)."""
        if q is wq.NullQuery or isinstance(q, wq.NullQuery.__class__):
            return {}
        if isinstance(q, wq.Term):
            return self._term(q, within)
        if isinstance(q, wq.Or):
            if q.scale is not None:
                raise Unsupported("coordinated OR")
            out: Scores = {}
            for sub in q.subqueries:
                _add(out, self.scores(sub, within))
            return _boosted(out, q.boost)
        if isinstance(q, wq.And):
            return _boosted(self._and(q.subqueries, within), q.boost)
        if isinstance(q, wq.AndNot):
            positive = self.scores(q.a, within)
            if positive:
                for docnum in self._docs(q.b, set(positive)):
                    positive.pop(docnum, None)
            return positive
        if isinstance(q, wq.AndMaybe):
            required = self.scores(q.a, within)
            if required:
                _add(required, self.scores(q.b, set(required)), only_existing=True)
            return required
        if isinstance(q, wq.Not | wq.Every | wq.Prefix | wq.Wildcard | wq.FuzzyTerm):
            raise Unsupported(type(q).__name__)
        return self._whoosh(q, within)

    def _and(self, subqueries: list[wq.Query], within: set[int] | None) -> Scores:
        positives = [s for s in subqueries if not isinstance(s, wq.Not)]
        negatives = [s for s in subqueries if isinstance(s, wq.Not)]
        if not positives:
            raise Unsupported("AND of NOTs")
        positives.sort(key=self._estimate)
        out = self.scores(positives[0], within)
        for sub in positives[1:]:
            if not out:
                return {}
            more = self.scores(sub, set(out))
            out = {d: s + more[d] for d, s in out.items() if d in more}
        for sub in negatives:
            if not out:
                break
            for docnum in self._docs(sub.query, set(out)):
                out.pop(docnum, None)
            # Whoosh scores NOT as a match of weight 1 for every document it lets through.
            out = {d: s + sub.boost for d, s in out.items()}
        return out

    def _estimate(self, q: wq.Query) -> int:
        """How many documents a query may match, to intersect the rarest first."""
        reader = self.scorer.reader
        try:
            if isinstance(q, wq.Term):
                return int(reader.doc_frequency(q.fieldname, q.text))
            if isinstance(q, wq.Or):
                return sum(self._estimate(s) for s in q.subqueries)
            if isinstance(q, wq.And):
                return min((self._estimate(s) for s in q.subqueries), default=0)
            if isinstance(q, wq.AndNot | wq.AndMaybe):
                return self._estimate(q.a)
        except (KeyError, ValueError, TypeError):
            pass
        if hasattr(q, "estimate_size"):
            return int(q.estimate_size(reader))
        return int(self.scorer.doc_count)

    def _docs(self, q: wq.Query, within: set[int]) -> set[int]:
        return set(self.scores(q, within))

    def _term(self, q: wq.Term, within: set[int] | None) -> Scores:
        scorer = self.scorer
        searcher = scorer.searcher
        schema = searcher.schema
        fieldname = q.fieldname
        if fieldname not in schema:
            return {}
        field = schema[fieldname]
        try:
            btext = field.to_bytes(q.text)
        except ValueError:
            return {}
        if (fieldname, btext) not in scorer.reader:
            return {}
        self._tick()
        boost = q.boost
        cached = scorer.cached((fieldname, btext))
        if cached is None and scorer.reader.doc_frequency(fieldname, btext) >= CACHE_MIN:
            cached = scorer.decode(fieldname, btext, self)
        if cached is not None:
            ids, scores = cached
            if within is None:
                if boost == 1.0:
                    return dict(zip(ids, scores, strict=True))
                return {d: s * boost for d, s in zip(ids, scores, strict=True)}
            return {d: s * boost for d, s in zip(ids, scores, strict=True) if d in within}
        postings = scorer.reader.postings(fieldname, btext)
        return self._read(postings, within, scorer.weigh(fieldname, btext, boost))

    def _read(
        self,
        postings: Any,
        within: set[int] | None,
        weigh: Callable[[Any, Any], list[float]],
    ) -> Scores:
        out: Scores = {}
        blocks = _Blocks(postings)
        wanted = sorted(within) if within is not None else None
        start = 0
        while blocks.active():
            if wanted is not None:
                if start >= len(wanted):
                    break
                if wanted[start] > blocks.max_id():
                    blocks.next()  # no candidate in this block: not decoded
                    continue
            ids, tfs = blocks.read()
            if within is None:
                out.update(zip(ids, weigh(ids, tfs), strict=True))
            else:
                pairs = [(d, tf) for d, tf in zip(ids, tfs, strict=True) if d in within]
                if pairs:
                    kept = [d for d, _ in pairs]
                    out.update(zip(kept, weigh(kept, [tf for _, tf in pairs]), strict=True))
                assert wanted is not None
                start = bisect_right(wanted, blocks.max_id(), start)
            blocks.next()
            self._tick()
        return out

    def _whoosh(self, q: wq.Query, within: set[int] | None) -> Scores:
        """Score a part this module does not know (a phrase) with Whoosh's matcher."""
        searcher = self.scorer.searcher
        self._tick()
        matcher = q.matcher(searcher, searcher.context())
        out: Scores = {}
        if within is None:
            n = 0
            while matcher.is_active():
                out[matcher.id()] = matcher.score()
                matcher.next()
                n += 1
                if n & 0x3FF == 0:
                    self._tick()
            return out
        for docnum in sorted(within):
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() == docnum:
                out[docnum] = matcher.score()
        return out


class _Blocks:
    """The blocks of one posting list: Whoosh 3 reads whole blocks; other matchers step."""

    def __init__(self, postings: Any) -> None:
        self.m = postings
        # Whoosh 3's leaf matcher decodes a block's document numbers and frequencies as arrays;
        # anything else (a wrapped or in-memory matcher) is stepped posting by posting.
        self.blocky = all(
            hasattr(postings, name)
            for name in ("_read_ids", "_read_weights", "_next_block", "_maxid", "_atend")
        )

    def active(self) -> bool:
        return bool(self.m.is_active())

    def max_id(self) -> int:
        return int(self.m._maxid) if self.blocky else int(self.m.id())

    def read(self) -> tuple[Any, Any]:
        m = self.m
        if self.blocky:
            if m._ids is None:
                m._read_ids()
            if m._weights is None:
                m._read_weights()
            i = m._i
            return (m._ids[i:], m._weights[i:]) if i else (m._ids, m._weights)
        return (m.id(),), (m.weight(),)

    def next(self) -> None:
        m = self.m
        if self.blocky:
            m._next_block()
        else:
            m.next()


def _add(out: Scores, more: Scores, only_existing: bool = False) -> None:
    if not out and not only_existing:
        out.update(more)
        return
    get = out.get
    for docnum, score in more.items():
        if only_existing and docnum not in out:
            continue
        out[docnum] = get(docnum, 0.0) + score


def _boosted(scores: Scores, boost: float) -> Scores:
    if boost == 1.0:
        return scores
    return {d: s * boost for d, s in scores.items()}
