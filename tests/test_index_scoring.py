"""The posting-list scorer (vod/index/scoring.py): on the index a deployment really builds, with
Whoosh's scores, and what it keeps when the time budget runs out (issue #12)."""

from __future__ import annotations

import shutil
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DATA
from starlette.testclient import TestClient

from vod.cli import main
from vod.config import Settings
from vod.index import SearchIndex, budget, scoring, writers
from vod.index import searcher as searcher_module
from vod.index.codec import PlainStoredCodec
from vod.index.collect import collect
from vod.index.query import clean_query, expand_prefixes, parse_query
from vod.index.scoring import BM25Scorer
from vod.lru import LruCache
from vod.web.app import create_app

PYVIDEO = DATA / "pyvideo"  # 258 real talks, a vod catalog (and raw records in sub-folders)
CHANGED_TITLE = "Escape from Auto manual Testing with Hypothesis!"
QUERIES = [
    "python",
    "django",
    "data science",
    "testing hypothesis",
    "async*",
    '"machine learning"',
    "speaker:russell",
    "django OR flask",
    "year:2019 pandas",
    "web (rest OR api)",
    "python numpy arrays",
]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The pyvideo sample indexed as `vod index` does, then one talk changed and indexed again.

    Two writer processes write a segment each (writers.py: from PARALLEL_FROM talks, lowered
    here so that 258 talks are "large"), and the update adds a third that replaces a deleted
    document: the shape of every real deployment's index.
    """
    root = tmp_path_factory.mktemp("deployed")
    catalog = root / "catalog"
    shutil.copytree(
        PYVIDEO, catalog, ignore=lambda folder, names: [n for n in names if "." not in n]
    )
    index_dir = root / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writers, "PARALLEL_FROM", 100)
        args = ["index", "--catalog", str(catalog), "--index-dir", str(index_dir)]
        first = CliRunner().invoke(main, args)
        assert first.exit_code == 0, first.output
        path = catalog / "scipy-2019.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(CHANGED_TITLE, "Escape from manual testing with zanzibar"))
        again = CliRunner().invoke(main, args)
        assert again.exit_code == 0, again.output
    yield root


def _segments(index: SearchIndex) -> list[tuple[int, bool]]:
    return [(s.offset, bool(s.deleted)) for s in index._current().scorer.segments]


def test_the_deployed_index_has_segments_and_a_deletion(deployed: Path) -> None:
    index = SearchIndex(deployed / "index")
    segments = _segments(index)
    assert len(segments) >= 3, segments
    assert any(deleted for _, deleted in segments)
    assert index._current().scorer.usable
    # Every segment, those of the two writer processes and the update's, written by the codec
    # that keeps stored fields uncompressed (codec.py).
    readers = [sub.reader() for sub, _ in index._current().searcher.leaf_searchers()]
    assert all(isinstance(r.segment().codec(), PlainStoredCodec) for r in readers)


def test_scores_on_several_segments_are_whooshs(deployed: Path) -> None:
    searcher = SearchIndex(deployed / "index")._current().searcher
    scorer = BM25Scorer(searcher)
    assert not searcher.reader().is_atomic()
    for text in QUERIES:
        q = expand_prefixes(
            parse_query(clean_query(text), searcher.schema).query, searcher.reader()
        )
        mine = scorer.score(q, budget.now() + 10)
        assert mine is not None, text
        theirs = {-d: s for s, d in collect(searcher, q, None, budget.now() + 10).scored}
        assert set(mine) == set(theirs), text
        for docnum, score in theirs.items():
            assert mine[docnum] == pytest.approx(score, rel=1e-9), text


def test_a_deleted_document_is_never_a_match(deployed: Path) -> None:
    index = SearchIndex(deployed / "index")
    scorer = index._current().scorer
    deleted = {s.offset + d for s in scorer.segments for d in s.deleted}
    assert deleted
    searcher = index._current().searcher
    for text in ("escape testing", "auto manual", "hypothesis", '"auto manual"'):
        q = parse_query(clean_query(text), searcher.schema).query
        found = scorer.score(q, budget.now() + 10)
        assert found, text
        assert not deleted & set(found), text
    [hit] = index.search("zanzibar").hits
    assert hit.slug.startswith("escape-from-auto-manual-testing")  # its slug stays


def test_the_served_index_is_searched_by_the_posting_list_scorer(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def whooshs_collector(*args: Any) -> Any:
        raise AssertionError("searched with Whoosh's collector, not the posting-list scorer")

    monkeypatch.setattr(searcher_module, "collect", whooshs_collector)
    settings = Settings(
        catalog=deployed / "catalog",
        index_dir=deployed / "index",
        media_dir=deployed / "media",
    )
    with TestClient(create_app(settings)) as client:
        for text in QUERIES:
            response = client.get("/search", params={"q": text})
            assert response.status_code == 200, text
        found = client.get("/api/search", params={"q": "django"}).json()
        assert found["total"] > 10
    assert len(_segments(SearchIndex(deployed / "index"))) >= 3


class _Clock:
    """A thread CPU clock that moves one millisecond each time a search looks at it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def test_out_of_time_ranks_what_was_scored_by_score(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = SearchIndex(deployed / "index")
    full = index.search("python")
    assert not full.partial and full.total > 50
    # A budget of a few looks at the clock: some fields are read, not all of them.
    fresh = SearchIndex(deployed / "index")
    fresh._current().scorer._cache = LruCache(0)  # nothing decoded ahead
    monkeypatch.setattr(budget, "now", _Clock())
    monkeypatch.setattr(searcher_module, "SEARCH_BUDGET", 0.004)
    cut = fresh.search("python")
    assert cut.partial
    assert 0 < cut.total < full.total
    scores = [h.score for h in cut.hits]
    assert scores == sorted(scores, reverse=True)
    # The heaviest field (title) is read first: what was kept is the title matches.
    assert all("python" in h.slug for h in cut.hits)


def test_out_of_time_still_leaves_out_the_words_to_leave_out(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = SearchIndex(deployed / "index")
    fresh._current().scorer._cache = LruCache(0)
    excluded = {h.slug for h in fresh.search("django", per_page=100).hits}
    monkeypatch.setattr(budget, "now", _Clock())
    monkeypatch.setattr(searcher_module, "SEARCH_BUDGET", 0.004)
    monkeypatch.setattr(scoring, "GRACE", 100.0)  # time enough to read the excluded word
    cut = fresh.search("python -django", per_page=100)
    assert cut.partial and cut.total > 0
    assert not {h.slug for h in cut.hits} & excluded


def test_decoded_lists_are_kept_up_to_a_number_of_postings() -> None:
    kept: LruCache[list[int]] = LruCache(10, weigh=len)
    kept.put("a", [1] * 6)
    kept.put("b", [1] * 3)
    assert kept.get("a") is not None  # a is now the most recent
    kept.put("c", [1] * 4)  # 13 postings: b, the least recently used, goes
    assert kept.get("b") is None and kept.get("a") is not None and kept.weight == 10
    kept.put("d", [1] * 50)  # larger than the whole budget: kept alone
    assert len(kept) == 1 and kept.get("d") is not None


def test_a_rare_terms_list_is_decoded_once_and_kept(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opening a posting list costs more than its few postings: every list read whole is kept,
    # so the next search with the word reads none of it again.
    index = SearchIndex(deployed / "index")
    scorer = index._current().scorer
    assert scorer is not None
    word = b"zanzibar"  # the changed title's word: one talk
    assert scorer.reader.doc_frequency("title", word) == 1
    first = index.search("zanzibar")
    assert scorer.cached(("title", word)) is not None
    opened: list[tuple[Any, ...]] = []

    def counting(real: Any) -> Any:
        def postings(*args: Any, **kwargs: Any) -> Any:
            opened.append(args)
            return real(*args, **kwargs)

        return postings

    for reader in (scorer.reader, *(segment.reader for segment in scorer.segments)):
        monkeypatch.setattr(reader, "postings", counting(reader.postings))
    index._current().results.clear()
    again = index.search("zanzibar")
    assert [h.slug for h in again.hits] == [h.slug for h in first.hits]
    assert not [a for a in opened if a[:2] == ("title", word)]


def test_many_small_lists_cannot_outgrow_the_cache() -> None:
    # A one-posting list weighs its entry too: the number of kept lists is bounded.
    kept: LruCache[Any] = LruCache(scoring.CACHE_POSTINGS, weigh=scoring._postings_count)
    one = (array("I", [1]), array("d", [0.5]))
    for n in range(scoring.CACHE_POSTINGS // scoring.ENTRY_WEIGHT + 100):
        kept.put(n, one)
    assert len(kept) <= scoring.CACHE_POSTINGS // (scoring.ENTRY_WEIGHT + 1)
    assert kept.weight <= scoring.CACHE_POSTINGS


def test_a_phrase_is_read_only_among_candidates_with_all_its_words(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whoosh import query as wq

    index = SearchIndex(deployed / "index")
    current = index._current()
    scorer = current.scorer
    assert scorer is not None
    words = ["manual", "test"]
    for word in words:  # decoded and kept, as the search before the phrase bonus leaves them
        scorer.decode("title", word.encode())
    with_words = scorer.cached(("title", b"manual"))
    assert with_words is not None
    everyone = set(range(scorer.doc_count))
    phrase = wq.Phrase("title", words)
    built: list[int] = []
    real = wq.Phrase.matcher

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(wq.Phrase, "matcher", counting)
    found = scorer.run(phrase, everyone, float("inf"))
    assert found is not None and found.scores
    monkeypatch.setattr(scoring._Run, "_with_every_word", lambda self, q, within: within)
    unfiltered = scorer.run(phrase, everyone, float("inf"))
    assert unfiltered is not None and found.scores == unfiltered.scores
    built.clear()
    monkeypatch.undo()
    monkeypatch.setattr(wq.Phrase, "matcher", counting)
    without_manual = everyone - set(with_words[0])
    nothing = scorer.run(phrase, set(sorted(without_manual)[:50]), float("inf"))
    assert nothing is not None and nothing.scores == {} and built == []
