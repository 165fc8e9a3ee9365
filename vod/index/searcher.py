"""Search the live index version: one searcher per process, reopened when the pointer moves."""

from __future__ import annotations

import html
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import highlight
from whoosh import index as whoosh_index
from whoosh import query as wq

from vod.errors import IndexNotBuilt, QueryError
from vod.index.build import IndexInfo, current_version
from vod.index.query import clean_query, expand_prefixes, parse_query, suggest_spelling
from vod.index.schema import NAME_ANALYZER

log = logging.getLogger(__name__)

PER_PAGE = 10
MAX_PAGE = 50  # deep pages cost as much as every page before them; nobody reads page 51
POINTER_CHECK_EVERY = 1.0  # seconds between looks at the CURRENT pointer
SNIPPET_LABELS = {
    "abstract": "abstract",
    "title": "title",
    "speakers": "presenters (live)",
    "recording_speakers": "presenters (in the recording)",
}


class _EscapingFormatter(highlight.Formatter):  # type: ignore[misc]
    """Escape every character of the text (quotes included), then add <mark> around hits."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text, quote=True)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return (
            "<mark>" + html.escape(highlight.get_text(text, token, replace), quote=True) + "</mark>"
        )


@dataclass(frozen=True)
class Hit:
    slug: str
    score: float
    snippet: str  # HTML: escaped text with <mark> around matched words
    matched_in: str  # which field the snippet comes from
    via_recording: bool = False  # a name matched only the recording's presenters


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

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, -(-self.total // self.per_page)))


@dataclass
class _Open:
    info: IndexInfo
    index: Any
    searcher: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


class SearchIndex:
    """The live index of one index folder, safe to share between a process's threads."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._open: _Open | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def _current(self) -> _Open:
        now = time.monotonic()
        with self._lock:
            if self._open is not None and now - self._checked < POINTER_CHECK_EVERY:
                return self._open
            self._checked = now
            info = current_version(self.index_dir)
            if info is None:
                if self._open is not None:
                    return self._open  # pointer unreadable for a moment: keep serving
                raise IndexNotBuilt(f"no index under {self.index_dir}; run `vod index`")
            if self._open is None or self._open.info.path != info.path:
                try:
                    ix = whoosh_index.open_dir(str(info.path))
                except Exception:  # pruned or damaged between the pointer read and the open
                    if self._open is not None:
                        log.exception("cannot open index %s; keeping the previous one", info.path)
                        return self._open
                    raise IndexNotBuilt(f"the index at {info.path} cannot be opened") from None
                old, self._open = self._open, _Open(info, ix, ix.searcher())
                log.info("searching index %s", info.path.name)
                if old is not None:
                    # A search running on the old version finishes first (it holds old.lock);
                    # one about to start sees `closed` and takes the new version.
                    with old.lock:
                        old.closed = True
                        old.searcher.close()
                        old.index.close()
            return self._open

    @property
    def info(self) -> IndexInfo:
        return self._current().info

    def search(self, raw: str, page: int = 1, per_page: int = PER_PAGE) -> SearchResults:
        """Search for `raw`; raise QueryError with a message for the user when it can't run."""
        started = time.perf_counter()
        page = max(1, min(page, MAX_PAGE))
        per_page = max(1, min(per_page, 100))
        text = clean_query(raw)
        current = self._current()
        while True:
            current.lock.acquire()
            if not current.closed:
                break
            current.lock.release()
            current = self._current()
        searcher = current.searcher
        try:
            parsed = parse_query(text, searcher.schema)
            query = expand_prefixes(parsed.query, searcher.reader())
            results = self._run(searcher, query, page, per_page)
            any_terms = False
            corrected_text: str | None = None
            searched_corrected = False
            if results.scored_length() == 0 and results.total == 0:
                corrected_text = self._correct(searcher, text)
                if corrected_text:
                    fixed = parse_query(corrected_text, searcher.schema)
                    results = self._run(
                        searcher, expand_prefixes(fixed.query, searcher.reader()), page, per_page
                    )
                    searched_corrected = results.total > 0
                if results.total == 0:
                    # No talk has every word: rank those that have some of them.
                    results = self._run(
                        searcher,
                        expand_prefixes(parsed.any_terms, searcher.reader()),
                        page,
                        per_page,
                    )
                    any_terms = results.total > 0
                    searched_corrected = False
            elif results.total < 3:
                corrected_text = self._correct(searcher, text)
            hits = tuple(self._hit(h) for h in results.hits)
        finally:
            current.lock.release()
        return SearchResults(
            query=text,
            total=results.total,
            page=page,
            per_page=per_page,
            hits=hits,
            corrected=corrected_text,
            searched_corrected=searched_corrected,
            any_terms=any_terms,
            took_ms=(time.perf_counter() - started) * 1000,
        )

    def _run(self, searcher: Any, query: wq.Query, page: int, per_page: int) -> _Page:
        if query is wq.NullQuery:
            return _Page(0, [])
        # optimize=False keeps the exact hit count without running the query twice.
        results = searcher.search(query, limit=page * per_page, terms=True, optimize=False)
        results.fragmenter = highlight.ContextFragmenter(maxchars=240, surround=70)
        results.formatter = _EscapingFormatter()
        start = (page - 1) * per_page
        return _Page(len(results), list(results[start : start + per_page]))

    def _correct(self, searcher: Any, text: str) -> str | None:
        """Suggest a spelling for the words no field of the index knows, or None."""
        try:
            return suggest_spelling(searcher, text)
        except Exception:  # the corrector is a nicety; never let it fail a search
            log.exception("spelling correction failed for %r", text)
            return None

    def _hit(self, hit: Any) -> Hit:
        matched: dict[str, set[str]] = {}
        for fieldname, word in hit.matched_terms():
            text = word.decode("utf-8") if isinstance(word, bytes) else str(word)
            matched.setdefault(fieldname, set()).add(text)
        names = matched.get("people", set())
        live = names & _tokens(hit.get("speakers") or "")
        recorded = names & _tokens(hit.get("recording_speakers") or "")
        via_recording = bool(recorded) and not live
        score = round(float(hit.score), 4)
        for name in ("abstract", "title"):
            if name in matched and hit.get(name):
                fragment = hit.highlights(name, top=2)
                if fragment:
                    return Hit(hit["slug"], score, fragment, name, via_recording)
        if names and (live or recorded):
            name = "speakers" if live else "recording_speakers"
            fragment = highlight.highlight(
                hit[name],
                frozenset(names),
                NAME_ANALYZER,
                highlight.WholeFragmenter(),
                _EscapingFormatter(),
            )
            return Hit(hit["slug"], score, fragment, SNIPPET_LABELS[name], via_recording)
        abstract = hit.get("abstract") or ""
        plain = html.escape(abstract[:240] + ("…" if len(abstract) > 240 else ""), quote=True)
        return Hit(hit["slug"], score, plain, "", via_recording)


def _tokens(text: str) -> set[str]:
    return {t.text for t in NAME_ANALYZER(text)}


@dataclass
class _Page:
    total: int
    hits: list[Any]

    def scored_length(self) -> int:
        return len(self.hits)


__all__ = ["Hit", "QueryError", "SearchIndex", "SearchResults"]
