"""Search the live index version: one searcher per process, reopened when the pointer moves."""

from __future__ import annotations

import heapq
import logging
import operator
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import compress
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.reading import TermNotFound

from vod import heap
from vod.errors import IndexDamaged, IndexNotBuilt, QueryError
from vod.index import budget, guards
from vod.index.build import IndexInfo, write_lease
from vod.index.collect import Matches, browse, collect, field_terms, top_in_order
from vod.index.coordination import coordinated, several
from vod.index.events import EventNames
from vod.index.facets import FACETS_FILE, Facet, FacetTable, Filters
from vod.index.files import open_version_index
from vod.index.guard import VersionGuard
from vod.index.query import (
    ParsedQuery,
    WordCounts,
    clean_query,
    expand_prefixes,
    parse_query,
    suggest_spelling,
)
from vod.index.schema import FIELD_BOOSTS
from vod.index.scoring import BM25Scorer, OutOfTime, read_frequent_terms
from vod.index.snippets import SaidAt, make_snippet
from vod.index.spelling import Speller
from vod.index.suggest import LIMIT as SUGGESTIONS
from vod.index.suggest import Suggester, Suggestion
from vod.index.terms import remember_terms
from vod.index.transcript import Cue, best_cue, cues_from_record
from vod.lru import LruCache

log = logging.getLogger(__name__)

PER_PAGE = 10
MAX_PAGE = 50  # deep pages cost as much as every page before them; nobody reads page 51
POINTER_CHECK_EVERY = 1.0  # seconds between looks at the CURRENT pointer
SORTS = ("relevance", "newest", "oldest")
# Seconds of the searching thread's CPU time (vod/index/budget.py) after which reading matches
# stops, and the results say they may be incomplete (issue #3: no query above 250 ms of server
# time). Parsing, prefix expansion, spelling, facets and snippets are bounded by size (~60 ms
# together at worst on pyvideo); this bounds the scan, the only part that grows with the corpus.
SEARCH_BUDGET = 0.1
RERANK = 100  # the best this many matches get the bonus of the query's exact phrase
WARM_POSTINGS = 500_000  # postings of frequent terms decoded when a version opens (~6 MB)
# Answers kept per index version: a search asked again, by the API or before its page is kept.
# Each is about 85 objects the garbage collector walks while it is kept: with 1,024 kept, the
# full passes under distinct searches took 8-63 ms (the p99 of a search page); with 256, 6-26
# ms. Pages asked again are answered before this, from the rendered pages kept (kept_pages.py).
RESULTS_KEPT = 256
FLIGHT_WAIT = 5.0  # seconds a search waits for the same one under way before running its own
WARM_PAUSE = 0.005  # seconds between two terms decoded in the background


@dataclass(frozen=True)
class Hit:
    slug: str
    score: float
    snippet: str  # HTML: escaped text with <mark> around matched words
    matched_in: str  # which field the snippet comes from
    via_recording: bool = False  # a name matched only the recording's presenters
    moment: SaidAt | None = None  # where the words were said in the recording, if they were
    title: str = ""  # HTML: the title with <mark> around matched words; "" when none matched


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    hits: tuple[Hit, ...]
    corrected: str | None = None  # "did you mean", when the index knows a close spelling
    searched_corrected: bool = False  # the hits are for `corrected`, the original found nothing
    any_terms: bool = False  # no talk had every word; hits have some of them
    took_ms: float = 0.0
    facets: tuple[Facet, ...] = ()
    filters: Filters = field(default_factory=Filters)
    sort: str = "relevance"
    partial: bool = False  # the search ran out of time; the count and facets are a lower bound
    # Results with every word (of `corrected`, when searched_corrected); those below them, up
    # to `total`, have some of the words (issue #12: a page is filled, not ended).
    all_words: int = 0

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, -(-self.total // self.per_page)))


@dataclass
class _Open:
    info: IndexInfo
    index: Any
    searcher: Any
    facets: FacetTable
    speller: Speller | None
    scorer: BM25Scorer
    # A second searcher for stored fields (a talk page's transcript), with its own lock: a
    # page never waits for a search or the warm-up (a Whoosh reader serves one thread at once).
    lookup: Any = None
    lookup_lock: threading.Lock = field(default_factory=threading.Lock)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False
    _suggester: Suggester | None = None
    _unrecorded: frozenset[str] | None = None
    _suggester_lock: threading.Lock = field(default_factory=threading.Lock)
    _event_names: EventNames | None = None
    _word_counts: WordCounts | None = None
    # Answers of this version, by query, filters, sort and page (see SearchIndex.search).
    results: LruCache[SearchResults] = field(default_factory=lambda: LruCache(RESULTS_KEPT))

    def close(self) -> None:
        """Release the version's files once no search or lookup is using them."""
        with self.lock, self.lookup_lock:
            self.closed = True
            self.searcher.close()
            self.lookup.close()
            self.index.close()

    def unrecorded(self) -> frozenset[str]:
        """The version's talks without a recording in the store (found once, then kept)."""
        if self._unrecorded is None:
            docs = self.facets.fields["recording"].docs_with(["0"])
            self._unrecorded = frozenset(self.facets.slugs[d] for d in docs)
        return self._unrecorded

    def event_names(self) -> EventNames:
        """The version's event names, for queries that name one (built on first use)."""
        if self._event_names is None:
            field = self.facets.fields.get("event")
            pairs = zip(field.keys, field.labels, strict=True) if field else ()
            self._event_names = EventNames(pairs)
        return self._event_names

    def word_counts(self) -> WordCounts:
        """The version's word counts for spelling, kept across searches (built on first use)."""
        if self._word_counts is None:
            self._word_counts = WordCounts(self.searcher, self.scorer.kept_ids)
        return self._word_counts

    def suggester(self) -> Suggester:
        """The version's suggestion lists, built on first use."""
        if self._suggester is None:
            with self._suggester_lock:
                if self._suggester is None:
                    self._suggester = Suggester(self.facets)
        return self._suggester


def _open_version(info: IndexInfo) -> _Open:
    ix = open_version_index(info.path)  # no memory map: a damaged file cannot kill us (files.py)
    searcher = ix.searcher()
    remember_terms(searcher, FIELD_BOOSTS)  # each term read from the terms file once (terms.py)
    try:
        reader = searcher.reader()
        if reader.has_column("slug"):
            column = reader.column_reader("slug")
            slugs = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in column]
        else:
            slugs = [reader.stored_fields(n)["slug"] for n in range(reader.doc_count_all())]
        try:
            facets = FacetTable.load(info.path, slugs)
        except (OSError, ValueError, KeyError):
            log.warning("index %s has no readable %s: no facets", info.path.name, FACETS_FILE)
            facets = FacetTable({}, slugs)
    except BaseException:
        searcher.close()
        ix.close()
        raise
    scorer = BM25Scorer(searcher, FIELD_BOOSTS)
    speller = Speller.load(info.path)
    return _Open(info, ix, searcher, facets, speller, scorer, lookup=ix.searcher())


def _warm(opened: _Open, replaced: bool) -> None:
    """Decode the most frequent terms of a new version in the background (see scoring.py)."""

    @contextmanager
    def hold() -> Iterator[bool]:
        with opened.lock:  # one term at a time: a search or page waits at most one decode...
            yield not opened.closed
        time.sleep(WARM_PAUSE)  # ...and gets the lock first: Python's lock is not fair

    try:
        opened.scorer.warm(read_frequent_terms(opened.info.path), WARM_POSTINGS, hold)
    except Exception:  # a warm cache is a nicety; searches decode what they need
        log.debug("warming %s stopped", opened.info.path.name, exc_info=True)
    # The version's readers and decoded postings live until the next swap: out of GC passes.
    heap.settle(f"opening index {opened.info.path.name}", replaced=replaced)


class SearchIndex:
    """The live index of one index folder, safe to share between a process's threads."""

    def __init__(self, index_dir: Path, catalog: str | None = None) -> None:
        self.index_dir = index_dir
        # Only versions of this catalog (its identity, identity.py), with intact files, are
        # opened; None serves any catalog's (the library used directly).
        self.guard = VersionGuard(index_dir, catalog)
        self._open: _Open | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._opening: Path | None = None  # the version being opened in the background

    def _current(self, wait: bool = True) -> _Open:
        """The open version the CURRENT pointer names, looked at once a second.

        A version the pointer has moved to is opened (about 0.3 s on pyvideo) by the caller
        when `wait`; otherwise in the background, while the caller keeps the version it had.
        Pages rendered on the event loop never wait; searches, in the thread pool, do.
        """
        now = time.monotonic()
        with self._lock:
            if self._open is not None and now - self._checked < POINTER_CHECK_EVERY:
                return self._open
            self._checked = now
            damaged = self._open is not None and not self.guard.verify(
                self._open.info,
                checksums=False,  # sizes only: a few stat calls a second
            )
            info = self.guard.choose()
            if info is None:
                if self._open is not None and not damaged:
                    return self._open  # pointer unreadable for a moment: keep serving
                raise self._unavailable()
            if self._open is not None and self._open.info.path == info.path:
                return self._open
            if self._open is not None and not wait and not damaged:
                if self._opening != info.path:
                    self._opening = info.path
                    threading.Thread(
                        target=self._switch, args=(info,), name="vod-open", daemon=True
                    ).start()
                return self._open
        return self._switch(info)

    def _unavailable(self) -> IndexNotBuilt:
        """The error a search gets when no version can serve, saying why."""
        if self.guard.damaged:
            detail = "; ".join(f"{n}: {p}" for n, p in sorted(self.guard.damaged.items()))
            return IndexDamaged(f"the index under {self.index_dir} is damaged ({detail})")
        if self.guard.mismatch:
            return IndexNotBuilt(self.guard.mismatch)
        return IndexNotBuilt(f"no index under {self.index_dir}; run `vod index`")

    def _verified(self, info: IndexInfo) -> IndexInfo:
        """Return `info` when its files are intact, else the newest intact version to serve."""
        while not self.guard.verify(info):  # before Whoosh reads (unpickles) anything of it
            fallback = self.guard.choose()
            if fallback is None:
                raise self._unavailable()
            info = fallback
        return info

    def _switch(self, info: IndexInfo) -> _Open:
        """Open version `info`, make it the live one and close the one it replaces."""
        try:
            info = self._verified(info)
            opened = _open_version(info)
        except IndexNotBuilt:
            with self._lock:
                self._opening = None
                if self._open is not None and not self.guard.is_damaged(self._open.info):
                    return self._open
            raise
        except Exception:  # pruned or damaged between the pointer read and the open
            with self._lock:
                self._opening = None
                if self._open is not None:
                    log.exception("cannot open index %s; keeping the previous one", info.path)
                    return self._open
            raise IndexNotBuilt(f"the index at {info.path} cannot be opened") from None
        with self._lock:
            self._opening = None
            if self._open is not None and self._open.info.path == info.path:
                opened.close()  # another thread opened the same version first
                return self._open
            old, self._open = self._open, opened
            # Say which version this process reads, so no build prunes it from under us.
            write_lease(self.index_dir, info.path.name)
        log.info("searching index %s", info.path.name)
        threading.Thread(
            target=_warm, args=(opened, old is not None), name="vod-warm", daemon=True
        ).start()
        if old is not None:
            # A search running on the old version finishes first (it holds old.lock); one
            # about to start sees `closed` and takes the new version.
            old.close()
        return opened

    @contextmanager
    def _using(self) -> Iterator[_Open]:
        """Hold the live version for one search: it is not closed while the search runs."""
        current = self._current()
        while True:
            current.lock.acquire()
            if not current.closed:
                break
            current.lock.release()
            current = self._current()
        try:
            yield current
        finally:
            current.lock.release()

    @contextmanager
    def _checking(self, opened: _Open) -> Iterator[None]:
        """Turn a failure to read a damaged version into IndexDamaged, and stop serving it."""
        try:
            yield
        except (QueryError, IndexNotBuilt):
            raise
        except Exception as exc:
            if self.guard.verify(opened.info):
                raise  # its files are intact: a bug, not damage
            with self._lock:
                self._checked = 0.0  # the next call takes another version, if one is intact
            raise IndexDamaged(f"index {opened.info.path.name} is damaged: {exc!r}") from None

    def health(self) -> dict[str, Any]:
        """What /healthz reports about the index (index/guard.py)."""
        try:
            serving: IndexInfo | None = self._current(wait=False).info
        except IndexNotBuilt:
            serving = None
        return self.guard.health(serving)

    @property
    def info(self) -> IndexInfo:
        """The live version (a newer one the pointer names is opened in the background)."""
        return self._current(wait=False).info

    def search(
        self,
        raw: str,
        page: int = 1,
        per_page: int = PER_PAGE,
        *,
        filters: Filters | None = None,
        sort: str = "relevance",
    ) -> SearchResults:
        """Search for `raw` within `filters`; raise QueryError with a message for the user.

        An empty `raw` with filters lists every talk the filters allow (newest first).
        """
        opened = self._current()  # opening a new index version is not the query's time
        started = time.perf_counter()
        filters = filters or Filters()
        if sort not in SORTS:
            raise QueryError(f"Results can be sorted by {', '.join(SORTS)}; not by {sort!r}.")
        page = max(1, min(page, MAX_PAGE))
        per_page = max(1, min(per_page, 100))
        # An index version never changes, so its answers stay right while it is open. The
        # same query arriving many times at once (a link shared, a load test) is searched once.
        with self._checking(opened):
            results, kept = opened.results.get_or_make(
                (raw, page, per_page, filters, sort),
                lambda: self._search(raw, page, per_page, filters, sort, started),
                keep=lambda r: not r.partial,  # a search cut short by its budget may do better
                wait=FLIGHT_WAIT,
            )
        return replace(results, took_ms=(time.perf_counter() - started) * 1000) if kept else results

    def _search(
        self, raw: str, page: int, per_page: int, filters: Filters, sort: str, started: float
    ) -> SearchResults:
        browsing = not raw.strip() and bool(filters.active)
        text = "" if browsing else clean_query(raw)
        corrected: str | None = None
        searched_corrected = any_terms = False
        with self._using() as current:
            # The budget is this query's own work: time spent waiting for the lock while other
            # searches ran is not, or a busy worker would answer with empty partial results.
            deadline = budget.now() + SEARCH_BUDGET
            searcher = current.searcher
            reader = searcher.reader()
            table = current.facets
            allowed = table.allowed(filters)
            query = None
            all_words = 0
            if browsing:
                found = browse(table.doc_count, allowed)
                sort = "newest" if sort == "relevance" else sort
            else:
                parsed = _parse(text, searcher.schema)
                query = expand_prefixes(parsed.query, reader)
                # The talks of an event the words name ("PyCon US 2019") rank first.
                named = current.event_names().named(text)
                first_docs = table.fields["event"].docs_with(named) if named else frozenset()
                found = _first(self._find(current, parsed, query, allowed, deadline), first_docs)
                all_words = found.total
                if found.total < per_page and not found.partial:
                    # Fewer than a page (issue #12): try the spelling, rare words included
                    # (a corpus has its own typos), then fill the page with talks that have
                    # some of the words, below those that have them all.
                    corrected = self._correct(current, text, raw)
                    if corrected:
                        fixed = _parse(corrected, searcher.schema, refuse=False)
                        retry = expand_prefixes(fixed.query, reader)
                        again = self._find(current, fixed, retry, allowed, deadline)
                        again = _first(again, first_docs)
                        if again.total > found.total:
                            searched_corrected = not found.scored
                            found = _below(found, again)
                            query = retry if searched_corrected else wq.Or([query, retry])
                        parsed = fixed  # the any-words tail searches the corrected words
                    all_words = found.total
                    if found.total < per_page and not found.partial and several(parsed.query):
                        loose = self._any_words(current, parsed, reader, allowed, deadline)
                        loose = _first(loose, first_docs)
                        if loose.scored:
                            any_terms = not found.scored
                            found = _below(found, loose)
                            query = expand_prefixes(_guarded(parsed.any_terms), reader)
                        found.partial |= loose.partial
            facets = table.facets(found.seen, filters)
            ranked = top_in_order(found.scored, sort, table.dates, page * per_page)
            terms = field_terms(query)
            hits = tuple(
                self._hit(searcher, -negated, score, terms)
                for score, negated in ranked[(page - 1) * per_page :]
            )
        return SearchResults(
            query=text,
            total=found.total,
            page=page,
            per_page=per_page,
            hits=hits,
            corrected=corrected,
            searched_corrected=searched_corrected,
            any_terms=any_terms,
            took_ms=(time.perf_counter() - started) * 1000,
            facets=facets,
            filters=filters,
            sort=sort,
            partial=found.partial,
            all_words=all_words,
        )

    def _any_words(
        self,
        current: _Open,
        parsed: ParsedQuery,
        reader: Any,
        allowed: frozenset[int] | None,
        deadline: float,
    ) -> Matches:
        """Talks with some of the words, those with more of them first (coordination.py)."""
        partial = False

        def score(clause: Any) -> dict[int, float]:
            nonlocal partial
            run = current.scorer.run(expand_prefixes(clause, reader), None, deadline)
            if run is None:
                raise _Unscorable
            partial |= run.partial
            return run.scores

        try:
            scores = coordinated(parsed.query, score)
        except _Unscorable:
            # A clause of a shape the posting-list scorer does not know (`x OR NOT y`): the
            # words joined by OR, scored as one query, without coordination.
            loose = expand_prefixes(_guarded(parsed.any_terms), reader)
            return self._find(current, parsed, loose, allowed, deadline)
        except OutOfTime:
            log.warning("search for %r ran out of time", parsed.text)
            return Matches([], [], partial=True)
        found = Matches(
            list(scores),
            _scored(scores, allowed),
            partial=partial,
        )
        if parsed.phrase is not None and found.scored and not found.partial:
            try:
                best = heapq.nlargest(RERANK, found.scored)
                bonus = current.scorer.run(
                    parsed.phrase, {-negated for _, negated in best}, deadline
                )
            except OutOfTime:
                bonus = None
            if bonus is not None and bonus.scores:
                found.scored = _with_bonus(found, scores, allowed, bonus.scores)
        return found

    def _find(
        self,
        current: _Open,
        parsed: ParsedQuery,
        query: Any,
        allowed: frozenset[int] | None,
        deadline: float,
    ) -> Matches:
        """Every match of `query`, scored; the best get their exact phrase's bonus.

        When the budget runs out, the matches scored so far are kept and ranked by score
        (scoring.py says which), and the results say they are partial.
        """
        scores: dict[int, float] | None = None
        try:
            run = current.scorer.run(query, None, deadline)
            if run is None:  # a shape the posting-list scorer does not know
                found = collect(current.searcher, query, allowed, deadline)
            else:
                scores = run.scores
                found = Matches(
                    list(scores),
                    _scored(scores, allowed),
                    partial=run.partial,
                )
            if parsed.phrase is not None and found.scored and not found.partial:
                best = heapq.nlargest(RERANK, found.scored)
                bonus = current.scorer.run(
                    parsed.phrase, {-negated for _, negated in best}, deadline
                )
                if bonus is not None and bonus.scores:
                    # A bonus read in part is still a bonus where it was read.
                    found.scored = _with_bonus(found, scores, allowed, bonus.scores)
                    found.partial |= bonus.partial
        except OutOfTime:
            log.warning("search for %r ran out of time", parsed.text)
            return Matches([], [], partial=True)
        if found.partial:
            log.warning("search for %r ran out of time; ranked what was scored", parsed.text)
        return found

    def _correct(self, current: _Open, text: str, typed: str) -> str | None:
        """Suggest a spelling for misspelled words, or None."""
        try:
            return suggest_spelling(
                current.word_counts(), text, current.speller, rare_too=True, typed=typed
            )
        except Exception:  # the corrector is a nicety; never let it fail a search
            log.exception("spelling correction failed for %r", text)
            return None

    def _hit(
        self, searcher: Any, docnum: int, score: float, terms: dict[str, frozenset[str]]
    ) -> Hit:
        stored = searcher.stored_fields(docnum)
        cue = None
        said = terms.get("transcript")
        if said and stored.get("cues"):
            cue = best_cue(stored["cues"], _positions(searcher.reader(), docnum, said))
        snippet = make_snippet(stored, terms, cue)
        return Hit(
            stored["slug"],
            round(float(score), 4),
            snippet.html,
            snippet.matched_in,
            snippet.via_recording,
            snippet.moment,
            snippet.title,
        )

    def transcript(self, slug: str) -> tuple[Cue, ...]:
        """Return the transcript cues of a talk (empty when it has no captions indexed)."""
        for _ in range(2):  # a version closed between the look and the lock: take the new one
            current = self._current(wait=False)
            with current.lookup_lock, self._checking(current):
                if not current.closed:
                    stored = current.lookup.document(slug=slug)
                    return cues_from_record(stored.get("cues")) if stored else ()
        return ()

    def suggest(self, prefix: str, limit: int = SUGGESTIONS) -> list[Suggestion]:
        """Return titles and speaker names with a word starting with `prefix`."""
        current = self._current()
        with self._checking(current):
            return current.suggester().suggest(prefix, limit)

    def unrecorded(self) -> frozenset[str]:
        """Return the talks whose recording was not in the store when this version was built.

        Cards, feeds and the sitemap tell placeholders from real recordings by this, without
        asking the store once per talk (issue #11). Empty when no index is built yet.
        """
        try:
            current = self._current(wait=False)
        except IndexNotBuilt:
            return frozenset()
        return current.unrecorded()


def _parse(text: str, schema: Any, refuse: bool = True) -> ParsedQuery:
    """Parse cleaned text, then rewrite or refuse what has no bound (guards.py)."""
    parsed = parse_query(text, schema)
    if not refuse:
        return replace(parsed, query=_guarded(parsed.query))
    return replace(parsed, query=guards.guard(parsed.query))


def _guarded(q: Any) -> Any:
    """`q` with its unbounded parts rewritten; nothing (NullQuery) when nothing is left."""
    try:
        return guards.guard(q)
    except QueryError:
        return wq.NullQuery


class _Unscorable(Exception):
    """A clause the posting-list scorer does not score."""


def _first(found: Matches, docs: frozenset[int]) -> Matches:
    """`found` with the matches among `docs` ranked above the others, each group in its order."""
    if not docs or not found.scored:
        return found
    lift = max(s for s, _ in found.scored)
    found.scored = [(s + lift, n) if -n in docs else (s, n) for s, n in found.scored]
    return found


def _scored(scores: dict[int, float], allowed: frozenset[int] | None) -> list[tuple[float, int]]:
    """(score, -document) of each match the filters allow, as Matches ranks them.

    Built from C when no filter applies: a common word matches thousands of talks.
    """
    if allowed is None:
        return list(zip(scores.values(), map(operator.neg, scores), strict=True))
    return [(s, -d) for d, s in scores.items() if d in allowed]


def _with_bonus(
    found: Matches,
    scores: dict[int, float] | None,
    allowed: frozenset[int] | None,
    extra: dict[int, float],
) -> list[tuple[float, int]]:
    """`found.scored` (made by _scored from `scores`) with each talk's phrase bonus in `extra`
    added: the same pairs in the same order. The few talks with a bonus are added to in
    `scores` and the list made again from C; a common word's thousands of matches were walked
    in Python (2 ms for "pythonically deutschsprachigen" on pyvideo). Without `scores` (a
    match set Whoosh's collector made), the list is walked."""
    if scores is None:
        return [(s + extra.get(-n, 0.0), n) for s, n in found.scored]
    for docnum, value in extra.items():
        if docnum in scores:  # always: the bonus is read among the matches
            scores[docnum] += value
    return _scored(scores, allowed)


def _below(first: Matches, then: Matches) -> Matches:
    """`first`'s matches, then those of `then` it lacks, every one of them ranked below."""
    partial = first.partial or then.partial
    if not first.scored and not first.seen:  # no talk had every word: the tail is the page
        return Matches(list(dict.fromkeys(then.seen)), list(then.scored), partial=partial)
    # From C: a common word of the tail matches thousands of talks.
    have = set(map(_DOCUMENT, first.scored))
    rest = list(
        compress(
            then.scored, map(operator.not_, map(have.__contains__, map(_DOCUMENT, then.scored)))
        )
    )
    lift = max(map(_SCORE, rest), default=0.0)
    scored = [(s + lift, n) for s, n in first.scored] + rest
    seen = list(dict.fromkeys([*first.seen, *then.seen]))
    return Matches(seen, scored, partial=partial)


_SCORE = operator.itemgetter(0)  # of a (score, -document) pair
_DOCUMENT = operator.itemgetter(1)


def _positions(reader: Any, docnum: int, words: frozenset[str]) -> list[tuple[str, list[int]]]:
    """Where each word occurs in a document's transcript (word positions)."""
    found = []
    for word in words:
        try:
            postings = reader.postings("transcript", word)
        except TermNotFound:
            continue
        postings.skip_to(docnum)
        if postings.is_active() and postings.id() == docnum:
            found.append((word, list(postings.value_as("positions"))))
    return found


__all__ = ["Hit", "QueryError", "SearchIndex", "SearchResults"]
