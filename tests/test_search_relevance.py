"""Relevance cannot silently regress: the relevance set's MRR@10 and success@1 stay above a floor.

The set and the scoring are tests/relevance_set.py's, which bench/relevance.py prints, so the
figures in BENCHMARKS.md and this test measure the same thing. Measured when the set was
written: vod 1.000 / 1.000 (MRR@10 / success@1) on 67 queries; plain SQLite FTS5 0.664 / 0.657.
"""

from __future__ import annotations

from pathlib import Path

import relevance_set

MRR_FLOOR = 0.95
SUCCESS_AT_1_FLOOR = 0.92


def test_the_set_is_big_enough_and_names_real_talks(tmp_path: Path) -> None:
    queries = relevance_set.load_queries()
    assert len(queries) >= 40
    kinds = {q.kind for q in queries}
    assert {"title", "topic", "speaker", "recording", "typo", "phrase", "prefix", "field"} <= kinds
    catalog = relevance_set.load_documents(tmp_path)
    for q in queries:
        assert q.relevant, q.query
        assert q.relevant <= set(catalog.talks), q.query


def test_relevance_stays_above_the_floor_and_beats_fts5() -> None:
    result = relevance_set.evaluate()
    vod, fts = result["vod"], result["fts5"]
    assert vod.mrr >= MRR_FLOOR, vod.misses
    assert vod.success_at_1 >= SUCCESS_AT_1_FLOOR, vod.misses
    assert vod.mrr > fts.mrr
