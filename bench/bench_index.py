"""Index builds on a real catalog: a full build against plain Whoosh, and incremental updates.

Measures, in one run:
- a plain Whoosh build (default writer settings, `ix.writer()` then `commit()`, in a process
  that imports Whoosh and nothing of vod) of the very documents vod indexes, and vod's writer
  (two processes, one segment each, and vod's fixes to Whoosh; vod/index/writers.py) on the
  same documents: seconds and documents per second, and the ratio;
- vod's whole `build_index` (documents, Whoosh, facets, spelling table, fingerprints);
- search latency over both indexes (one segment and two), the same queries in the same loop;
- an incremental update after one talk changes (`update_index`): the update alone, and the
  whole `vod index` command (a new Python process: imports, catalog from its cache, update).

Usage:
    python bench/bench_index.py --catalog DIR [--workdir /tmp/vod-bench-index] [--updates 5]
DIR is a vod catalog, e.g. one made by `vod import pyvideo ../shared/data/pyvideo-data.tar.gz
--out DIR`. The catalog is copied into the work folder; nothing outside it is written.
"""

from __future__ import annotations

import argparse
import pickle
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.qparser import MultifieldParser, OrGroup

ROOT = Path(__file__).resolve().parents[1]
ANALYSIS = ROOT / "vod" / "index" / "analysis.py"
QUERIES = [
    "python",
    "django",
    "machine learning",
    "asyncio",
    "pandas dataframe",
    "web scraping",
    "testing",
    "postgres",
    "kubernetes",
    "type hints",
    "data science",
    "flask api",
    '"deep learning"',
    "numpy",
    "security",
    "packaging",
    "concurrency",
    "jupyter",
    "hettinger",
    "async*",
    "visualization",
    "performance",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def documents(catalog: Any) -> list[dict[str, Any]]:
    from vod.index.build import _Store, talk_entry

    store = _Store(None)
    return [talk_entry(catalog, talk, store)[0] for talk in catalog.talks.values()]


# The plain build runs in a process of its own that imports Whoosh only: vod's fixes to Whoosh
# (vod/index/whoosh_fixes.py) apply as soon as vod.index is imported.
PLAIN_SCRIPT = """
import importlib.util, pickle, sys, time, types
from whoosh import index
# vod's analyzers (plain Whoosh filters) without the vod package, which would patch Whoosh:
# empty parents, so unpickling the schema does not import the real vod and vod.index.
for name in ("vod", "vod.index"):
    sys.modules[name] = types.ModuleType(name)
spec = importlib.util.spec_from_file_location("vod.index.analysis", sys.argv[3])
analysis = importlib.util.module_from_spec(spec)
sys.modules["vod.index.analysis"] = analysis
spec.loader.exec_module(analysis)
schema, docs = pickle.load(open(sys.argv[1], "rb"))
ix = index.create_in(sys.argv[2], schema)
start = time.perf_counter()
writer = ix.writer()
for doc in docs:
    writer.add_document(**doc)
writer.commit()
print(time.perf_counter() - start)
assert "vod.index.whoosh_fixes" not in sys.modules
"""


def write_plain(docs: list[dict[str, Any]], folder: Path) -> float:
    from vod.index.schema import make_schema

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data = folder.parent / "plain-documents.pickle"
    data.write_bytes(pickle.dumps((make_schema(), docs), protocol=pickle.HIGHEST_PROTOCOL))
    done = subprocess.run(
        [sys.executable, "-c", PLAIN_SCRIPT, str(data), str(folder), str(ANALYSIS)],
        check=True,
        capture_output=True,
        text=True,
    )
    data.unlink()
    return float(done.stdout.strip())


def write_vod(docs: list[dict[str, Any]], folder: Path) -> float:
    from vod.index.schema import make_schema
    from vod.index.writers import commit, fast_writer

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ix = whoosh_index.create_in(str(folder), make_schema())
    start = time.perf_counter()
    writer = fast_writer(ix, len(docs))
    for doc in docs:
        writer.add_document(**doc)
    commit(writer)
    return time.perf_counter() - start


def search_latency(folder: Path, rounds: int) -> tuple[list[float], int]:
    ix = whoosh_index.open_dir(str(folder))
    segments = len(ix._segments())
    parser = MultifieldParser(["title", "abstract", "people"], ix.schema, group=OrGroup)
    times: list[float] = []
    with ix.searcher() as searcher:
        for _ in range(rounds):
            for text in QUERIES:
                query = parser.parse(text)
                start = time.perf_counter()
                results = searcher.search(query, limit=10)
                len(results)
                times.append((time.perf_counter() - start) * 1000)
    return times, segments


def change_one_talk(catalog_dir: Path, rng: random.Random) -> str:
    """Edit one talk's title in its file; return its slug."""
    files = sorted(p for p in catalog_dir.glob("*.yaml") if p.name != "speakers.yaml")
    while True:
        path = rng.choice(files)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        # Plain one-line titles only: appending to a quoted or folded one would break the YAML.
        titles = [
            i
            for i, line in enumerate(lines)
            if line.startswith("  title: ")
            and line[9:10].isalnum()
            and not any(mark in line[9:] for mark in (": ", " #", "'", '"'))
            and not lines[i + 1].startswith("    ")
        ]
        if titles:
            break
    i = rng.choice(titles)
    lines[i] = lines[i].rstrip("\n") + " (edited)\n"
    path.write_text("".join(lines), encoding="utf-8")
    slug_line = next(line for line in reversed(lines[:i]) if line.startswith("- slug: "))
    return slug_line.split(": ", 1)[1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True, help="A vod catalog folder.")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vod-bench-index"))
    parser.add_argument("--updates", type=int, default=5, help="Incremental updates to time.")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds of the search queries.")
    parser.add_argument("--skip-full", action="store_true", help="Only the incremental part.")
    args = parser.parse_args()

    from vod.catalog import catalog_cache_dir, load_catalog_cached
    from vod.index.build import build_index
    from vod.index.incremental import update_index

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    catalog_dir = work / "catalog"
    shutil.rmtree(catalog_dir, ignore_errors=True)
    shutil.copytree(args.catalog, catalog_dir, ignore=shutil.ignore_patterns(".*"))
    index_dir = work / "index"
    cache = catalog_cache_dir(index_dir)
    start = time.perf_counter()
    catalog = load_catalog_cached(catalog_dir, cache)
    print(f"catalog: {len(catalog.talks)} talks, loaded in {time.perf_counter() - start:.1f} s")

    if not args.skip_full:
        docs = documents(catalog)
        plain = write_plain(docs, work / "plain")
        tuned = write_vod(docs, work / "tuned")
        n = len(docs)
        print(f"plain Whoosh build: {plain:6.1f} s  {n / plain:6.0f} docs/s")
        print(
            f"vod writer:         {tuned:6.1f} s  {n / tuned:6.0f} docs/s  ({plain / tuned:.2f}x)"
        )
        shutil.rmtree(index_dir, ignore_errors=True)
        start = time.perf_counter()
        build_index(catalog, index_dir, parallel=True)
        whole = time.perf_counter() - start
        print(
            f"vod build_index:    {whole:6.1f} s  {n / whole:6.0f} docs/s  ({plain / whole:.2f}x; "
            "with facets, spelling table and fingerprints)"
        )
        for label, folder in (("plain", work / "plain"), ("vod", work / "tuned")):
            times, segments = search_latency(folder, args.rounds)
            print(
                f"search on {label} index ({segments} segment(s)): "
                f"p50 {pct(times, 50):.1f} ms  p95 {pct(times, 95):.1f} ms  ({len(times)} queries)"
            )
    elif not (index_dir / "CURRENT").exists():
        build_index(catalog, index_dir, parallel=True)

    rng = random.Random(5)
    updates: list[float] = []
    commands: list[float] = []
    for _ in range(args.updates):
        slug = change_one_talk(catalog_dir, rng)
        changed = load_catalog_cached(catalog_dir, cache)
        start = time.perf_counter()
        info = update_index(changed, index_dir)
        updates.append(time.perf_counter() - start)
        assert changed.talks[slug].title and changed.talks[slug].title.endswith("(edited)")
        slug = change_one_talk(catalog_dir, rng)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "vod", "index"],
            check=True,
            cwd=ROOT,
            capture_output=True,
            env={"VOD_CATALOG": str(catalog_dir), "VOD_INDEX_DIR": str(index_dir), "PATH": ""},
        )
        commands.append(time.perf_counter() - start)
        print(
            f"  one talk changed: update_index {updates[-1]:.2f} s, "
            f"`vod index` {commands[-1]:.2f} s"
        )
    print(
        f"incremental update, one talk changed: median {statistics.median(updates):.2f} s "
        f"(max {max(updates):.2f}); whole `vod index` command: median "
        f"{statistics.median(commands):.2f} s (max {max(commands):.2f}); "
        f"last version {info.path.name}"
    )


if __name__ == "__main__":
    main()
