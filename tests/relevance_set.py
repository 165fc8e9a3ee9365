"""The relevance set and how it is scored: vod's search against a plain SQLite FTS5 (bm25) index.

The set is tests/relevance/queries.yaml: queries a person types when half remembering a talk,
over the bundled Systems @Scale 2024 catalog and a pyvideo sample (tests/data/pyvideo), each
with the talks they would accept. `evaluate()` gives MRR@10 and success@1, overall and by kind,
for vod and for the baseline. tests/test_search_relevance.py holds vod above a floor with it,
and bench/relevance.py prints it, so the test and the figures in BENCHMARKS.md agree.

The baseline is plain FTS5: the unicode61 tokenizer (folds case and accents, no stemming),
bm25() with equal column weights, and the query's words joined by AND; quoted phrases, `word*`
prefixes, `-word` and the fields speaker:, company:, event:, year: are translated to FTS5's
syntax.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vod.catalog import Catalog, load_catalog
from vod.config import BUNDLED_CATALOG
from vod.index import SearchIndex, build_index

TESTS = Path(__file__).resolve().parent
QUERIES = TESTS / "relevance" / "queries.yaml"  # queries a person types, with the talks they accept
PYVIDEO_SAMPLE = TESTS / "data" / "pyvideo"
TOP = 10  # results looked at per query: MRR@10


@dataclass(frozen=True)
class Judged:
    query: str
    kind: str
    relevant: frozenset[str]


def load_queries(path: Path = QUERIES) -> list[Judged]:
    raw = yaml.safe_load(path.read_text())["queries"]
    return [Judged(q["query"], q["kind"], frozenset(q["relevant"])) for q in raw]


def load_documents(workdir: Path) -> Catalog:
    """The bundled catalog and the pyvideo sample, as one catalog folder."""
    folder = workdir / "catalog"
    folder.mkdir(parents=True, exist_ok=True)
    for source in (BUNDLED_CATALOG, PYVIDEO_SAMPLE):
        for path in sorted(source.glob("*.yaml")):
            shutil.copyfile(path, folder / f"{source.name}-{path.name}")
    return load_catalog(folder)


def reciprocal_rank(found: list[str], relevant: frozenset[str]) -> float:
    for rank, slug in enumerate(found[:TOP], 1):
        if slug in relevant:
            return 1.0 / rank
    return 0.0


@dataclass(frozen=True)
class Score:
    mrr: float
    success_at_1: float
    misses: tuple[str, ...]
    by_kind: dict[str, tuple[float, float, int]]


def score(runs: list[tuple[Judged, list[str]]]) -> Score:
    kinds: dict[str, list[tuple[float, float]]] = defaultdict(list)
    misses = []
    for judged, found in runs:
        rr = reciprocal_rank(found, judged.relevant)
        at_1 = 1.0 if found[:1] and found[0] in judged.relevant else 0.0
        kinds[judged.kind].append((rr, at_1))
        kinds["all"].append((rr, at_1))
        if rr == 0.0:
            misses.append(judged.query)
    by_kind = {
        kind: (
            sum(r for r, _ in v) / len(v),
            sum(s for _, s in v) / len(v),
            len(v),
        )
        for kind, v in kinds.items()
    }
    return Score(by_kind["all"][0], by_kind["all"][1], tuple(misses), by_kind)


# ---- vod -------------------------------------------------------------------------------------


def run_vod(
    catalog: Catalog, queries: list[Judged], workdir: Path
) -> list[tuple[Judged, list[str]]]:
    index_dir = workdir / "vod-index"
    build_index(catalog, index_dir)
    index = SearchIndex(index_dir)
    return [(q, [h.slug for h in index.search(q.query, per_page=TOP).hits]) for q in queries]


# ---- plain SQLite FTS5 -----------------------------------------------------------------------

FTS_COLUMNS = ("title", "abstract", "speakers", "company", "session", "event", "tags", "year")
FTS_FIELDS = {"speaker": "speakers", "company": "company", "event": "event", "year": "year"}


def fts5_index(catalog: Catalog) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE talks USING fts5(slug UNINDEXED, {', '.join(FTS_COLUMNS)})")
    rows = []
    for talk in catalog.talks.values():
        event = catalog.events[talk.event]
        people = [
            catalog.speakers[s] for s in dict.fromkeys(talk.speakers + talk.recording_speakers)
        ]
        rows.append(
            (
                talk.slug,
                talk.title or "",
                talk.abstract or "",
                " ; ".join(n for p in people for n in (p.name, *p.aliases) if n),
                " ; ".join(sorted({p.company for p in people if p.company})),
                talk.session or "",
                f"{event.name} {event.slug}",
                " ".join(talk.tags),
                str(event.year),
            )
        )
    db.executemany(f"INSERT INTO talks VALUES (?, {', '.join('?' * len(FTS_COLUMNS))})", rows)
    return db


_TOKEN = re.compile(r'(-?)(?:(\w+):)?("[^"]*"|\S+)')


def fts5_query(text: str) -> str:
    """Translate the query language into FTS5: quoted phrases, prefixes, -word and fields."""
    positive: list[str] = []
    negative: list[str] = []
    for minus, field, term in _TOKEN.findall(text):
        column = FTS_FIELDS.get(field.lower()) if field else None
        if term.startswith('"'):
            words = re.findall(r"\w+", term)
            expr = '"' + " ".join(words) + '"' if words else ""
        else:
            prefix = term.endswith("*")
            words = re.findall(r"\w+", term)
            expr = " ".join(f'"{w}"' for w in words)
            if prefix and words:
                expr += "*"
        if not expr:
            continue
        if field and column is None:
            expr = f'"{field}" {expr}'  # not a field FTS5 knows: the words as typed
        elif column:
            expr = f"{column} : ({expr})"
        (negative if minus else positive).append(expr)
    query = " AND ".join(positive)
    for expr in negative:
        query = f"({query}) NOT ({expr})" if query else ""
    return query


def run_fts5(catalog: Catalog, queries: list[Judged]) -> list[tuple[Judged, list[str]]]:
    db = fts5_index(catalog)
    runs = []
    for q in queries:
        expr = fts5_query(q.query)
        try:
            found = [
                row[0]
                for row in db.execute(
                    "SELECT slug FROM talks WHERE talks MATCH ? ORDER BY bm25(talks) LIMIT ?",
                    (expr, TOP),
                )
            ]
        except sqlite3.OperationalError:
            found = []
        runs.append((q, found))
    return runs


# ---- report ----------------------------------------------------------------------------------


def evaluate(queries_path: Path = QUERIES) -> dict[str, Any]:
    queries = load_queries(queries_path)
    with tempfile.TemporaryDirectory(prefix="vod-relevance-") as tmp:
        workdir = Path(tmp)
        catalog = load_documents(workdir)
        vod = score(run_vod(catalog, queries, workdir))
        fts = score(run_fts5(catalog, queries))
    return {"queries": len(queries), "documents": len(catalog.talks), "vod": vod, "fts5": fts}
