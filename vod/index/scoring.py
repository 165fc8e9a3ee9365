"""Score a query the way Whoosh's BM25F does, one posting list at a time instead of one document.

Whoosh finds matches by stepping a tree of matchers a document at a time, asking every level
whether it is still active: on the pyvideo corpus `python` (12k matches in eight fields) took
50-110 ms even with the array union. This module reads each term's posting blocks whole
(document numbers and term frequencies as arrays), scores them with the same BM25F formula and
statistics, and combines the per-term results as dictionaries: OR adds, AND intersects (the
rarest word first, so blocks without a candidate are never decoded), AND NOT removes.

An index of several segments (a parallel build writes two, every incremental update adds one)
is read segment by segment: a document's number is its segment's offset plus its number there,
as Whoosh numbers them, and deleted documents are left out. The statistics (idf, average field
length) are the whole index's, as Whoosh's own scorer takes them from the top searcher.

The scores are Whoosh's own: tests/test_search_index.py::test_posting_list_scores_equal_whooshs
compares them document by document on one segment, tests/test_index_scoring.py on several.
A query shape it does not know (a phrase, a range) is scored by Whoosh's matcher for that part
only; a query it cannot take at all returns None, and the caller uses Whoosh's collector.

A part that matches every document but some (`NOT x`, `NOT x ANDMAYBE y`, `x OR NOT y`) is read
only among the documents the rest of its AND (or the AND NOT, AND MAYBE it is under) matched,
as Whoosh's matchers step through it. With no such documents it matches nothing (see scores()).

When the time budget runs out, the run stops reading words it has not started and keeps what it
scored (issue #12, "partial answers"): an OR keeps the words read so far, an AND the documents
that have the words read so far, each with its score so far, so the caller ranks those by score.
Words to leave out (NOT) are still applied to what is kept, within a grace period after the
budget; past that the run gives up (OutOfTime).
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F

from vod.index import budget
from vod.lru import LruCache

Scores = dict[int, float]
# Every posting list a search reads whole is decoded once and kept, up to CACHE_POSTINGS per
# index version: a list weighs its postings (12 bytes each) plus ENTRY_WEIGHT for the entry
# itself (its key and two arrays, ~350 bytes), so the cache stays under ~12 MB however small
# its lists. Decoding is the cost of a frequent term (about 0.7 us a posting: `python` has 20k
# in eight fields); a rare term's cost is opening its list (a pickled block header, ~30 us a
# field and segment). Both come back: the words people search recur in other searches, so
# every list read whole is kept (pyvideo, 3,000 distinct title-word searches after 5,000
# others: 4.7 ms CPU a search with lists of 256 postings or more kept, 3.9 with all).
CACHE_POSTINGS = 1_000_000
ENTRY_WEIGHT = 32
FREQUENT_MIN = 256  # postings of a term the build lists as frequent (FREQUENT_FILE)
# After the budget, the words to leave out are still applied to what was scored, for at most
# this share of the budget more; beyond it the search gives up.
GRACE = 0.5
FEW_CANDIDATES = 8  # a list this many times longer than the candidates is searched, not walked
CHECK_EVERY = 64  # documents a Whoosh matcher (a phrase) steps between looks at the clock
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
            if df >= FREQUENT_MIN:
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
    """The query's time budget (and its grace) ran out before the words to leave out were read."""


class Unsupported(Exception):
    """A query shape this module does not score (the caller falls back to Whoosh)."""


@dataclass(frozen=True)
class Scored:
    """Scores of a query's matches; `partial` when the budget stopped the reading early."""

    scores: Scores
    partial: bool = False


@dataclass(frozen=True)
class _Segment:
    """One segment of the index: its reader, its searcher, where its document numbers start."""

    reader: Any
    searcher: Any
    offset: int
    deleted: frozenset[int]  # numbers within the segment


Decoded = tuple["array[int]", "array[float]"]


def _postings_count(decoded: Decoded) -> int:
    return len(decoded[0]) + ENTRY_WEIGHT


class BM25Scorer:
    """Scores for one searcher (one index version); field length norms cached per field."""

    def __init__(self, searcher: Any, fields: Iterable[str] = ()) -> None:
        """Prepare scoring on `searcher`; the length norms of `fields` are computed now."""
        self.searcher = searcher
        self.reader = searcher.reader()
        weighting = searcher.weighting
        self.usable = isinstance(weighting, BM25F)
        self.segments = [
            _Segment(
                sub.reader(),
                sub,
                int(offset),
                frozenset(sub.reader().deleted_docs_set)
                if sub.reader().has_deletions()
                else frozenset(),
            )
            for sub, offset in searcher.leaf_searchers()
        ]
        self.B = getattr(weighting, "B", 0.75)
        self.K1 = getattr(weighting, "K1", 1.2)
        self.field_B: dict[str, float] = dict(getattr(weighting, "_field_B", {}))
        self.doc_count = int(self.reader.doc_count_all())
        self._norms: dict[str, array[float]] = {}
        # Decoded posting lists: (document numbers, unboosted scores).
        self._cache: LruCache[Decoded] = LruCache(CACHE_POSTINGS, weigh=_postings_count)
        if self.usable:
            for fieldname in fields:  # ~25 ms a field on pyvideo: at open, not in a search
                if fieldname in searcher.schema and searcher.schema[fieldname].scorable:
                    self._norm(fieldname)

    def _norm(self, fieldname: str) -> array[float]:
        """K1 * (1 - B + B * length / average length), for each document."""
        norms = self._norms.get(fieldname)
        if norms is None:
            searcher = self.searcher
            b = self.field_B.get(fieldname, self.B)
            avg = searcher.avg_field_length(fieldname) or 1
            k1 = self.K1
            # A document without the field has length 0; it has no posting there either.
            lengths = [
                n
                for segment in self.segments
                for n in _field_lengths(segment.searcher, fieldname, segment.reader.doc_count_all())
            ]
            # An array of doubles: 8 bytes a document, not the 32 of a list of floats.
            norms = array("d", [k1 * ((1 - b) + b * (fl or 1) / avg) for fl in lengths])
            self._norms[fieldname] = norms
        return norms

    def cached(self, key: tuple[str, bytes]) -> Decoded | None:
        """A decoded posting list kept from an earlier search, or None."""
        return self._cache.get(key)

    def kept_ids(self, fieldname: str, btext: bytes) -> array[int] | None:
        """The documents of a term's posting list when it is kept decoded, else None."""
        kept = self._cache.get((fieldname, btext))
        return None if kept is None else kept[0]

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

    def decode(self, fieldname: str, btext: bytes, run: _Run | None = None) -> Decoded | None:
        """Read a whole posting list with its unboosted scores, and keep it (see CACHE_POSTINGS).

        None when the run's budget stopped the reading: a list read in part is never kept.
        """
        run = run or _Run(self, float("inf"))
        unboosted = run._read(fieldname, btext, self.weigh(fieldname, btext, 1.0))
        if run.partial:
            return None
        decoded = (array("I", unboosted), array("d", unboosted.values()))
        self._cache.put((fieldname, btext), decoded)
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
        found = self.run(q, None, deadline)
        if found is not None and found.partial:
            raise OutOfTime
        return None if found is None else found.scores

    def score_within(self, q: wq.Query, docs: set[int] | None, deadline: float) -> Scores | None:
        """Like score(), for the documents `docs` only (None: every document)."""
        found = self.run(q, docs, deadline)
        if found is not None and found.partial:
            raise OutOfTime
        return None if found is None else found.scores

    def run(self, q: wq.Query, docs: set[int] | None, deadline: float) -> Scored | None:
        """Score `q` (within `docs`), keeping what was scored when `deadline` passes.

        None when the query has a shape this module does not score. Raise OutOfTime only when
        the grace after the deadline passes too (see the module's docstring).
        """
        if not self.usable:
            return None
        run = _Run(self, deadline)
        try:
            scores = run.scores(q, docs)
        except Unsupported:
            return None
        return Scored(scores, run.partial)


def _field_lengths(searcher: Any, fieldname: str, doc_count: int) -> list[int]:
    """Each document's length in a field, as Whoosh's scorer sees it (a one-byte estimate).

    `searcher` is one segment's: the lengths are numbered within that segment.
    """
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
    """One query's scoring: the clock, and whether the budget cut the reading short."""

    def __init__(self, scorer: BM25Scorer, deadline: float) -> None:
        self.scorer = scorer
        self.deadline = deadline
        # Past the deadline, what was read is kept; past this one too, nothing is.
        self.last = deadline + GRACE * max(0.0, deadline - budget.now())
        self.partial = False

    def _late(self) -> bool:
        """Tell whether the budget is spent (and remember it); past its grace, give up."""
        now = budget.now()
        if now > self.deadline:
            self.partial = True
            if now > self.last:
                raise OutOfTime
        return self.partial

    def scores(self, q: wq.Query, within: set[int] | None) -> Scores:
        """Score `q`; with `within`, only those documents (the others are not read)."""
        if q is wq.NullQuery or isinstance(q, wq.NullQuery.__class__):
            return {}
        if isinstance(q, wq.Term):
            return self._term(q, within)
        if within is None and _open_ended(q):
            # Every document but some, and no documents to choose among. The guard refuses
            # such a query as typed (guards.py), so this is what is left of an AND whose words
            # matched nothing (a prefix without completions, which normalize() drops): the
            # AND matched nothing, as Whoosh finds for the query before the prefix is expanded.
            return {}
        if isinstance(q, wq.Or):
            if q.scale is not None:
                raise Unsupported("coordinated OR")
            out: Scores = {}
            # The heaviest fields first: when the budget runs out, what is kept counts most.
            for sub in sorted(q.subqueries, key=lambda sub: -sub.boost):
                if self.partial:
                    break
                _add(out, self.scores(sub, within))
            return _boosted(out, q.boost)
        if isinstance(q, wq.And):
            return _boosted(self._and(q.subqueries, within), q.boost)
        if isinstance(q, wq.AndNot):
            positive = self.scores(q.a, within)
            if positive:
                for docnum in self._excluded(q.b, positive):
                    positive.pop(docnum, None)
            return positive
        if isinstance(q, wq.AndMaybe):
            required = self.scores(q.a, within)
            if required and not self.partial:
                _add(required, self.scores(q.b, set(required)), only_existing=True)
            return required
        if isinstance(q, wq.Not) and within is not None:
            return self._inverse(q, within)
        if isinstance(q, wq.Not | wq.Every | wq.Prefix | wq.Wildcard | wq.FuzzyTerm):
            raise Unsupported(type(q).__name__)
        if isinstance(q, wq.Phrase) and within is not None:
            within = self._with_every_word(q, within)
            if not within:
                return {}
        return self._whoosh(q, within)

    def _with_every_word(self, q: wq.Phrase, within: set[int]) -> set[int]:
        """The documents of `within` that have each word of the phrase `q` in its field, as far
        as the decoded lists kept say (a word not kept rules nothing out).

        A phrase's matcher reads every word's positions, per segment: most of the cost of the
        exact-phrase bonus, paid even where no candidate has all the words in that field (the
        title, usually: the words matched elsewhere).
        """
        schema = self.scorer.searcher.schema
        if q.fieldname not in schema:
            return within
        field = schema[q.fieldname]
        for word in q.words:
            try:
                kept = self.scorer.cached((q.fieldname, field.to_bytes(word)))
            except ValueError:
                continue
            if kept is None:
                continue
            within = {d for d in within if _place(kept[0], d) >= 0}
            if not within:
                break
        return within

    def _and(self, subqueries: list[wq.Query], within: set[int] | None) -> Scores:
        negatives = [s for s in subqueries if isinstance(s, wq.Not)]
        # Parts that match every document but some (`NOT x ANDMAYBE y`, `x OR NOT y`): read
        # only among the documents the other parts matched.
        open_ended = [s for s in subqueries if not isinstance(s, wq.Not) and _open_ended(s)]
        positives = [s for s in subqueries if not isinstance(s, wq.Not) and not _open_ended(s)]
        if positives:
            positives.sort(key=self._estimate)
            out = self.scores(positives[0], within)
        elif within is not None:  # only parts that leave out: among the documents given
            out = dict.fromkeys(within, 0.0)
        else:  # pragma: no cover - scores() answers an open-ended AND without documents
            raise Unsupported("AND of NOTs")
        for sub in positives[1:]:
            if not out or self.partial:
                break  # out of time: the documents that have the words read so far
            more = self.scores(sub, set(out))
            if self.partial:  # read in part: the documents it did not reach stay, unverified
                out = {d: s + more.get(d, 0.0) for d, s in out.items()}
            else:
                out = {d: s + more[d] for d, s in out.items() if d in more}
        for sub in open_ended:
            if not out:
                break
            # Its words to leave out are read within the grace (_inverse); a document it does
            # not match goes, even out of time.
            more = self.scores(sub, set(out))
            out = {d: s + more[d] for d, s in out.items() if d in more}
        if not out:
            return {}
        for sub in negatives:
            for docnum in self._excluded(sub.query, out):
                out.pop(docnum, None)
            # Whoosh scores NOT as a match of weight 1 for every document it lets through.
            out = {d: s + sub.boost for d, s in out.items()}
        return out

    def _inverse(self, q: wq.Not, within: set[int]) -> Scores:
        """The documents of `within` that `q` lets through, each scored as _and scores a NOT."""
        left_out = self._excluded(q.query, within)
        return {d: q.boost for d in within if d not in left_out}

    def _excluded(self, q: wq.Query, among: Collection[int]) -> set[int]:
        """The documents of `among` that `q` matches, read whole even past the deadline."""
        partial, self.partial, deadline = self.partial, False, self.deadline
        self.deadline = self.last  # words to leave out are honoured within the grace
        try:
            found = set(self.scores(q, set(among)))
            if self.partial:  # even the grace ran out: nothing can be shown safely
                raise OutOfTime
            return found
        finally:
            self.partial, self.deadline = partial, deadline

    def _estimate(self, q: wq.Query) -> int:
        """How many documents a query may match, to intersect the rarest first."""
        reader = self.scorer.reader
        try:
            if isinstance(q, wq.Term):
                schema = self.scorer.searcher.schema
                if q.fieldname not in schema:
                    return 0  # `storage ( ^2 ` parses to a term of no field: it matches nothing
                # A list decoded already knows its length: no lookup in each segment's terms.
                kept = self.scorer.cached((q.fieldname, schema[q.fieldname].to_bytes(q.text)))
                if kept is not None:
                    return len(kept[0])
                return int(reader.doc_frequency(q.fieldname, q.text))
            if isinstance(q, wq.Or):
                return sum(self._estimate(s) for s in q.subqueries)
            if isinstance(q, wq.And):
                return min((self._estimate(s) for s in q.subqueries), default=0)
            if isinstance(q, wq.AndNot | wq.AndMaybe):
                return self._estimate(q.a)
        except (KeyError, ValueError, TypeError, TermNotFound):
            pass
        if hasattr(q, "estimate_size"):
            return int(q.estimate_size(reader))
        return int(self.scorer.doc_count)

    def _term(self, q: wq.Term, within: set[int] | None) -> Scores:
        scorer = self.scorer
        schema = scorer.searcher.schema
        fieldname = q.fieldname
        if fieldname not in schema:
            return {}
        field = schema[fieldname]
        try:
            btext = field.to_bytes(q.text)
        except ValueError:
            return {}
        # A list kept decoded answers first: the term is in the index (no lookup in each
        # segment's terms, a file read for a word not met lately).
        cached = scorer.cached((fieldname, btext))
        if (cached is None and (fieldname, btext) not in scorer.reader) or self._late():
            return {}
        boost = q.boost
        if cached is None:
            cached = scorer.decode(fieldname, btext, self)
            if cached is None:  # out of time while decoding: nothing of this word is kept
                return {}
        ids, scores = cached
        if within is None:
            if boost == 1.0:
                return dict(zip(ids, scores, strict=True))
            return {d: s * boost for d, s in zip(ids, scores, strict=True)}
        if len(within) * FEW_CANDIDATES < len(ids):
            # A few candidates in a long list (the other words of an AND were rarer): look each
            # up instead of walking the list.
            return {d: scores[i] * boost for d in within if (i := _place(ids, d)) >= 0}
        return {d: s * boost for d, s in zip(ids, scores, strict=True) if d in within}

    def _read(
        self, fieldname: str, btext: bytes, weigh: Callable[[Any, Any], list[float]]
    ) -> Scores:
        """Score a term's whole posting list in every segment, until the deadline."""
        out: Scores = {}
        for segment in self.scorer.segments:
            if (fieldname, btext) not in segment.reader:
                continue
            postings = segment.reader.postings(fieldname, btext)
            if isinstance(postings, FilterMatcher):
                postings = postings.child  # deleted documents are left out below, a block at once
            if not self._segment(_Blocks(postings), segment, weigh, out):
                break
        return out

    def _segment(
        self,
        blocks: _Blocks,
        segment: _Segment,
        weigh: Callable[[Any, Any], list[float]],
        out: Scores,
    ) -> bool:
        """Add one segment's postings to `out`; False when the budget stopped the reading."""
        offset, deleted = segment.offset, segment.deleted
        while blocks.active():
            local, tfs = blocks.read()
            if deleted:
                pairs = [(d, tf) for d, tf in zip(local, tfs, strict=True) if d not in deleted]
                local, tfs = [d for d, _ in pairs], [tf for _, tf in pairs]
            ids = [offset + d for d in local] if offset else local
            out.update(zip(ids, weigh(ids, tfs), strict=True))
            blocks.next()
            if self._late():
                return False
        return True

    def _whoosh(self, q: wq.Query, within: set[int] | None) -> Scores:
        """Score a part this module does not know (a phrase) with Whoosh's matcher, per segment."""
        out: Scores = {}
        wanted = sorted(within) if within is not None else None
        for segment in self.scorer.segments:
            if self._late():
                return out
            if wanted is not None:
                end = segment.offset + segment.reader.doc_count_all()
                if bisect_left(wanted, segment.offset) == bisect_left(wanted, end):
                    continue  # no candidate in this segment: its matcher is not built
            matcher = q.matcher(segment.searcher, segment.searcher.context())
            offset = segment.offset
            n = 0
            if wanted is None:
                while matcher.is_active():
                    out[offset + matcher.id()] = matcher.score()
                    matcher.next()
                    n += 1
                    if n % CHECK_EVERY == 0 and self._late():
                        return out
                continue
            end = offset + segment.reader.doc_count_all()
            for docnum in wanted[bisect_left(wanted, offset) : bisect_left(wanted, end)]:
                n += 1
                if n % CHECK_EVERY == 0 and self._late():
                    return out
                if not matcher.is_active():
                    break
                local = docnum - offset
                if matcher.id() < local:
                    matcher.skip_to(local)
                    if not matcher.is_active():
                        break
                if matcher.id() == local:
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


def _place(ids: array[int], docnum: int) -> int:
    """Where `docnum` is in a decoded list's document numbers (they ascend), or -1."""
    i = bisect_left(ids, docnum)
    return i if i < len(ids) and ids[i] == docnum else -1


def _open_ended(q: wq.Query) -> bool:
    """Tell whether `q` matches every document but some: it has no word a match must have."""
    if isinstance(q, wq.Not):
        return True
    if isinstance(q, wq.And):
        return all(_open_ended(sub) for sub in q.subqueries)
    if isinstance(q, wq.Or):
        return any(_open_ended(sub) for sub in q.subqueries)
    if isinstance(q, wq.AndNot | wq.AndMaybe | wq.Require):
        return _open_ended(q.a)
    return False


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
