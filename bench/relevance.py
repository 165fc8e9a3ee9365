"""Relevance of vod's search next to SQLite FTS5 (bm25) and plain Whoosh, on the same judgments.

The relevance set is tests/relevance/queries.yaml (scored by tests/relevance_set.py, which
the test suite uses too). Its `pyvideo` queries are judged over the whole imported pyvideo
catalog; its `sample` queries over the bundled catalog and tests/data/pyvideo. Prints MRR@10,
success@1 and Recall@10 by kind for each engine, and the queries vod misses.

Usage:
    vod import pyvideo ../shared/data/pyvideo-data.tar.gz --out /tmp/pvout
    python bench/relevance.py --catalog /tmp/pvout [--workdir /tmp/vod-relevance] [--json]
    python bench/relevance.py --corpus sample
    python bench/relevance.py --catalog /tmp/pvout --latency   # thread CPU time per search

Plain Whoosh is what a first Whoosh search looks like: StemmingAnalyzer on title, abstract,
speakers, event and tags, MultifieldParser joining the words by AND, BM25F, and nothing else
(no fallback, no spelling, no boosts). Indexes are kept in --workdir between runs; vod's is
brought up to date by its own incremental build, so a changed analyzer rebuilds it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from relevance_set import (  # noqa: E402
    TOP,
    Judged,
    Score,
    fts5_index,
    fts5_search,
    load_documents,
    load_queries,
    run,
    score,
)
from whoosh import index as whoosh_index  # noqa: E402
from whoosh.analysis import StemmingAnalyzer  # noqa: E402
from whoosh.fields import ID, KEYWORD, TEXT, Schema  # noqa: E402
from whoosh.qparser import MultifieldParser  # noqa: E402

from vod.catalog import Catalog, load_catalog  # noqa: E402
from vod.index import SearchIndex, build_index  # noqa: E402

ENGINES = ("vod", "fts5", "whoosh")


def vod_search(catalog: Catalog, index_dir: Path) -> Callable[[str], list[str]]:
    build_index(catalog, index_dir, parallel=len(catalog.talks) > 5000)
    index = SearchIndex(index_dir)
    return lambda text: [h.slug for h in index.search(text, per_page=TOP).hits]


def whoosh_search(catalog: Catalog, index_dir: Path) -> Callable[[str], list[str]]:
    """Plain Whoosh over the same talks (built once per --workdir)."""
    fields = ("title", "abstract", "speakers", "event", "tags")
    if not whoosh_index.exists_in(str(index_dir)):
        index_dir.mkdir(parents=True, exist_ok=True)
        schema = Schema(
            slug=ID(stored=True, unique=True),
            title=TEXT(analyzer=StemmingAnalyzer()),
            abstract=TEXT(analyzer=StemmingAnalyzer()),
            speakers=TEXT(analyzer=StemmingAnalyzer()),
            event=TEXT(analyzer=StemmingAnalyzer()),
            tags=KEYWORD(lowercase=True, commas=True, scorable=True),
        )
        ix = whoosh_index.create_in(str(index_dir), schema)
        writer = ix.writer(limitmb=256)
        for talk in catalog.talks.values():
            event = catalog.events[talk.event]
            people = [catalog.speakers[s] for s in talk.speakers if s in catalog.speakers]
            writer.add_document(
                slug=talk.slug,
                title=talk.title or "",
                abstract=talk.abstract or "",
                speakers=" ; ".join(p.name for p in people if p.name),
                event=f"{event.name} {event.slug}",
                tags=",".join(talk.tags),
            )
        writer.commit()
    ix = whoosh_index.open_dir(str(index_dir))
    searcher = ix.searcher()
    parser = MultifieldParser(list(fields), schema=ix.schema)

    def search(text: str) -> list[str]:
        try:
            return [hit["slug"] for hit in searcher.search(parser.parse(text), limit=TOP)]
        except Exception:  # plain Whoosh raises on some syntax; count it as no answer
            return []

    return search


def evaluate(corpus: str, catalog_dir: Path | None, workdir: Path) -> dict[str, Any]:
    """Score every engine on one corpus's queries."""
    queries: list[Judged] = load_queries(corpus=corpus)
    workdir = workdir / corpus
    workdir.mkdir(parents=True, exist_ok=True)
    if corpus == "sample":
        catalog = load_documents(workdir)
    else:
        if catalog_dir is None:
            raise SystemExit("the pyvideo set needs --catalog (an imported pyvideo catalog)")
        catalog = load_catalog(catalog_dir)
    engines = {
        "vod": vod_search(catalog, workdir / "vod-index"),
        "fts5": fts5_search(fts5_index(catalog)),
        "whoosh": whoosh_search(catalog, workdir / "whoosh-plain"),
    }
    scores: dict[str, Score] = {}
    took: dict[str, float] = {}
    for name, search in engines.items():
        started = time.perf_counter()
        scores[name] = score(run(queries, search))
        took[name] = time.perf_counter() - started
    return {
        "queries": len(queries),
        "documents": len(catalog.talks),
        "scores": scores,
        "took": took,
    }


def latency(catalog_dir: Path, workdir: Path, count: int = 400) -> str:
    """Thread CPU time per search over distinct one- and two-word queries of title words."""
    catalog = load_catalog(catalog_dir)
    rnd = random.Random(12)
    words = [
        w.lower()
        for t in catalog.talks.values()
        for w in re.findall(r"[A-Za-z]{4,}", t.title or "")
    ]
    queries: list[str] = []
    while len(queries) < count:
        text = " ".join(rnd.sample(words, rnd.choice((1, 2))))
        if text not in queries:
            queries.append(text)
    index_dir = workdir / "pyvideo" / "vod-index"
    build_index(catalog, index_dir, parallel=len(catalog.talks) > 5000)
    index = SearchIndex(index_dir)
    for text in queries[:50]:
        index.search(text + " warm")
    times = []
    tails = 0
    for text in queries:
        started = time.thread_time()
        results = index.search(text)
        times.append((time.thread_time() - started) * 1000)
        tails += results.total > results.all_words
    times.sort()
    return (
        f"{count} one- and two-word queries: p50 {times[count // 2]:.1f} ms, "
        f"p95 {times[int(count * 0.95)]:.1f} ms, max {times[-1]:.1f} ms (thread CPU time); "
        f"any-words tail on {tails}"
    )


def report(corpus: str, result: dict[str, Any]) -> None:
    scores: dict[str, Score] = result["scores"]
    print(f"\n{corpus}: {result['queries']} queries over {result['documents']} talks (top {TOP})")
    print("MRR@10 / success@1 / Recall@10\n")
    head = "".join(f"  {name:>20}" for name in ENGINES)
    print(f"{'kind':17} {'n':>3}{head}")
    vod = scores["vod"]
    for kind in sorted(vod.by_kind, key=lambda k: (k == "all", k)):
        cells = "".join(
            "  {:>6.3f} {:>6.3f} {:>6.3f}".format(*scores[name].by_kind[kind][:3])
            for name in ENGINES
        )
        print(f"{kind:17} {vod.by_kind[kind][3]:3}{cells}")
    print(
        "\nseconds for all queries: " + ", ".join(f"{n} {t:.1f}" for n, t in result["took"].items())
    )
    print(f"vod misses ({len(vod.misses)}): {list(vod.misses)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, help="An imported pyvideo catalog folder.")
    parser.add_argument(
        "--corpus", choices=("pyvideo", "sample", "both"), default="both", help="Which set."
    )
    parser.add_argument("--workdir", type=Path, help="Keep indexes here between runs.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser.add_argument(
        "--latency", action="store_true", help="Time searches of title words instead (--catalog)."
    )
    args = parser.parse_args()
    if args.latency:
        if args.catalog is None:
            raise SystemExit("--latency needs --catalog")
        with tempfile.TemporaryDirectory(prefix="vod-latency-") as tmp:
            print(latency(args.catalog, args.workdir or Path(tmp)))
        return
    corpora = ("sample", "pyvideo") if args.corpus == "both" else (args.corpus,)
    if args.corpus == "both" and args.catalog is None:
        corpora = ("sample",)
    with tempfile.TemporaryDirectory(prefix="vod-relevance-") as tmp:
        workdir = args.workdir or Path(tmp)
        results = {corpus: evaluate(corpus, args.catalog, workdir) for corpus in corpora}
    if args.json:
        out = {
            corpus: {
                name: {
                    "mrr@10": s.mrr,
                    "success@1": s.success_at_1,
                    "recall@10": s.recall,
                    "by_kind": s.by_kind,
                    "misses": s.misses,
                }
                for name, s in result["scores"].items()
            }
            for corpus, result in results.items()
        }
        print(json.dumps(out, indent=2))
        return
    for corpus, result in results.items():
        report(corpus, result)


if __name__ == "__main__":
    main()
