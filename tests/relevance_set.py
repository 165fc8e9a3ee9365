"""The relevance set and how it is scored: shared by tests/test_search_relevance.py and
bench/relevance.py (no test imports bench/), so the test's floors and the figures in
BENCHMARKS.md measure one thing.

A query is judged over one corpus (`corpus:` in queries.yaml): `sample` is the bundled Systems
@Scale 2024 catalog with the pyvideo sample of tests/data/pyvideo; `pyvideo` is the whole
imported pyvideo catalog. The baseline is plain SQLite FTS5: the unicode61 tokenizer (folds case
and accents, no stemming), bm25() with equal column weights, and the query's words joined by AND;
quoted phrases, `word*` prefixes, `-word` and the fields speaker:, company:, event:, year: are
translated to FTS5's syntax.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from vod.catalog import Catalog, load_catalog
from vod.config import BUNDLED_CATALOG

TESTS = Path(__file__).resolve().parent
QUERIES = TESTS / "relevance" / "queries.yaml"  # queries a person types, with the talks they accept
PYVIDEO_SAMPLE = TESTS / "data" / "pyvideo"
TOP = 10  # results looked at per query: MRR@10, Recall@10


@dataclass(frozen=True)
class Judged:
    query: str
    kind: str
    relevant: frozenset[str]
    corpus: str = "sample"


def load_queries(path: Path = QUERIES, corpus: str | None = "sample") -> list[Judged]:
    """The judged queries of one corpus (all of them when `corpus` is None)."""
    raw = yaml.safe_load(path.read_text())["queries"]
    judged = [
        Judged(q["query"], q["kind"], frozenset(map(str, q["relevant"])), q.get("corpus", "sample"))
        for q in raw
    ]
    return [q for q in judged if corpus is None or q.corpus == corpus]


def load_documents(workdir: Path) -> Catalog:
    """The bundled catalog and the pyvideo sample, as one catalog folder."""
    folder = workdir / "catalog"
    folder.mkdir(parents=True, exist_ok=True)
    for source in (BUNDLED_CATALOG, PYVIDEO_SAMPLE):
        for path in sorted(source.glob("*.yaml")):
            shutil.copyfile(path, folder / f"{source.name}-{path.name}")
    return load_catalog(folder)


@dataclass(frozen=True)
class Score:
    mrr: float  # mean reciprocal rank of the first relevant talk in the top 10
    success_at_1: float  # share of queries whose first result is relevant
    recall: float  # share of the relevant talks in the top 10 (of at most 10 of them)
    misses: tuple[str, ...]  # queries with no relevant talk in the top 10
    by_kind: dict[str, tuple[float, float, float, int]]  # kind: (mrr, s@1, recall, n)


def score(runs: list[tuple[Judged, list[str]]]) -> Score:
    """Score each query's ranked slugs against its judgments, overall and by kind."""
    kinds: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    misses = []
    for judged, found in runs:
        top = found[:TOP]
        rr = next((1.0 / n for n, slug in enumerate(top, 1) if slug in judged.relevant), 0.0)
        at_1 = 1.0 if top[:1] and top[0] in judged.relevant else 0.0
        recall = len(judged.relevant.intersection(top)) / min(TOP, len(judged.relevant))
        kinds[judged.kind].append((rr, at_1, recall))
        kinds["all"].append((rr, at_1, recall))
        if rr == 0.0:
            misses.append(judged.query)
    by_kind = {
        kind: (
            sum(r for r, _, _ in v) / len(v),
            sum(s for _, s, _ in v) / len(v),
            sum(c for _, _, c in v) / len(v),
            len(v),
        )
        for kind, v in kinds.items()
    }
    mrr, at_1, recall, _ = by_kind["all"]
    return Score(mrr, at_1, recall, tuple(misses), by_kind)


def run(
    queries: list[Judged], search: Callable[[str], list[str]]
) -> list[tuple[Judged, list[str]]]:
    """Each query with the slugs `search` ranks for it."""
    return [(q, search(q.query)) for q in queries]


# ---- plain SQLite FTS5 -----------------------------------------------------------------------

FTS_COLUMNS = ("title", "abstract", "speakers", "company", "session", "event", "tags", "year")
FTS_FIELDS = {"speaker": "speakers", "company": "company", "event": "event", "year": "year"}


def fts5_index(catalog: Catalog, path: str = ":memory:") -> sqlite3.Connection:
    """An FTS5 table of the catalog's talks (every column weighted the same)."""
    db = sqlite3.connect(path)
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
    db.commit()
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


def fts5_search(db: sqlite3.Connection) -> Callable[[str], list[str]]:
    """A search function over an FTS5 table: the top 10 slugs by bm25."""

    def search(text: str) -> list[str]:
        try:
            return [
                row[0]
                for row in db.execute(
                    "SELECT slug FROM talks WHERE talks MATCH ? ORDER BY bm25(talks) LIMIT ?",
                    (fts5_query(text), TOP),
                )
            ]
        except sqlite3.OperationalError:
            return []

    return search
