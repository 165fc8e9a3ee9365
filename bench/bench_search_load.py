"""Searches under load (issue #12): vod's HTML /search page against plain Whoosh and FTS5 pages.

Measures, in one run, with wrk (one thread, 32 connections) against each server in turn, each
with 2 workers under uvicorn:
- vod: `vod serve --workers 2`, the HTML `/search` page (top 10 with snippets, the five facets,
  spelling), on the index `vod index` writes (two segments from the parallel build);
- plain Whoosh: bench/search_baselines.py, top 10 titles and the exact count, on vod's index
  files (same documents and analyzers), no snippets, facets or caches;
- SQLite FTS5: bench/search_baselines.py, top 10 by bm25 and a count(*), in memory.

Two loads per server:
- distinct: 20,000 different queries of one or two title words, none seen before (the warm-up
  uses other ones), in a fixed random order;
- Zipf: the same queries drawn with probability proportional to 1/rank, so a few are asked
  again and again and most rarely (what a site's search box sees).
And one client alone against vod, one request at a time on a keep-alive connection, over every
query kind of bench_search.py (word, two words, OR, phrase, prefix, speaker, typo, fuzzy,
filtered, sorted, browse): p50, p95 and max per kind. The resident memory of each vod worker is
read at the end. Each load run also prints the workers' CPU time per request (from /proc), a
figure that other work on the machine changes far less than req/s or latency.

wrk sends no Accept-Encoding, as a script or an API client would; `--gzip` makes every request
say `Accept-Encoding: gzip`, as a browser's does (vod then compresses every page it renders).

Usage (wrk from Debian: apt-get install wrk):
    python bench/bench_search_load.py --catalog DIR [--index-dir DIR] [--duration 15] [--gzip]
Without --index-dir the index is built (`vod index`) into a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import (  # type: ignore[import-not-found]  # noqa: E402
    distinct_queries,
    free_port,
    rss_mb,
    serve,
    stop,
    wait_ready,
    worker_pids,
    wrk,
)
from bench_search import make_queries  # type: ignore[import-not-found]  # noqa: E402

TARGETS = {"distinct_rps": 600, "distinct_p99": 100.0, "zipf_rps": 1500, "single_p95": 20.0}
TARGETS_MAX = 150.0


def zipf_paths(paths: list[str], count: int, rng: random.Random) -> list[str]:
    """`count` draws from `paths`, the one of rank r with probability proportional to 1/r."""
    weights = [1 / (rank + 1) for rank in range(len(paths))]
    return rng.choices(paths, weights=weights, k=count)


def single_client(port: int, queries: list[tuple[str, dict[str, str]]]) -> dict[str, list[float]]:
    """Milliseconds per request by kind, one at a time on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out: dict[str, list[float]] = {}
    for kind, params in queries:
        path = "/search?" + urllib.parse.urlencode(params)
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status >= 500:
            raise SystemExit(f"{path} answered {response.status}")
        out.setdefault(kind, []).append(elapsed)
    conn.close()
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds the processes `pids` have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, help="a vod index folder to use (kept)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per-kind", type=int, default=40, help="single-client queries per kind")
    parser.add_argument("--only", choices=("vod", "plain", "fts5"), action="append")
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="every request says Accept-Encoding: gzip, as a browser's does (wrk alone does not)",
    )
    opts = parser.parse_args()
    headers = {"Accept-Encoding": "gzip"} if opts.gzip else None
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    servers = opts.only or ["vod", "plain", "fts5"]

    work = Path(tempfile.mkdtemp(prefix="vod-bench-search-load-"))
    index_dir = opts.index_dir or work / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    env.update(
        VOD_CATALOG=str(opts.catalog),
        VOD_INDEX_DIR=str(index_dir),
        VOD_MEDIA_DIR=str(work / "media"),
        PYTHONPATH=str(ROOT),
    )
    print(f"bringing the index of {opts.catalog} up to date ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "vod", "index"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"  {time.perf_counter() - started:.1f} s")

    from vod.catalog import load_catalog
    from vod.index import current_version

    catalog = load_catalog(opts.catalog)
    version = current_version(index_dir)
    assert version is not None
    rng = random.Random(12)
    queries = distinct_queries(catalog, 22_000, rng)
    measured, warm_up = queries[:20_000], queries[20_000:]
    distinct = ["/search?q=" + urllib.parse.quote(q) for q in measured]
    zipf = zipf_paths(distinct, 100_000, rng)
    warm_paths = ["/search?q=" + urllib.parse.quote(q) for q in warm_up]
    single = make_queries(catalog, opts.per_kind, seed=7)
    print(
        f"{len(catalog.talks)} talks; {opts.workers} workers each, wrk 1 thread, "
        f"{opts.connections} connections{', Accept-Encoding: gzip' if opts.gzip else ''}, "
        f"{opts.duration} s per run; load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )

    results: dict[str, dict[str, dict[str, float]]] = {}
    single_ms: dict[str, list[float]] = {}
    memory: list[float] = []
    for name in servers:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        if name == "vod":
            args = [sys.executable, "-m", "vod", "serve", "--workers", str(opts.workers)]
            args += ["--port", str(port)]
            extra: dict[str, str] = {}
        else:
            factory = "plain_whoosh" if name == "plain" else "fts5"
            args = [sys.executable, "-m", "uvicorn", f"bench.search_baselines:{factory}"]
            args += ["--factory", "--workers", str(opts.workers), "--port", str(port)]
            args += ["--log-level", "warning"]
            extra = {"VOD_BENCH_WHOOSH": str(version.path)}
        proc = serve(args, {**env, **extra}, work / f"{name}.log")
        try:
            wait_ready(base + "/healthz", timeout=900)
            # Warm-up on other queries: the frequent terms decoded, the templates compiled.
            wrk(base, warm_paths, 8, opts.connections, headers=headers)
            if name == "vod":
                single_ms = single_client(port, single)
            pids = worker_pids(proc.pid) or [proc.pid]
            results[name] = {}
            for load, paths in (("distinct", distinct), ("zipf", zipf)):
                before = cpu_seconds(pids)
                run = wrk(base, paths, opts.duration, opts.connections, headers=headers)
                # Worker CPU per request: what a request costs, whatever else the machine runs.
                run["cpu_ms"] = (cpu_seconds(pids) - before) * 1000 / max(1, run["requests"])
                results[name][load] = run
            if name == "vod":
                memory = [rss_mb(p) for p in worker_pids(proc.pid)]
        finally:
            stop(proc)
        for load, r in results.get(name, {}).items():  # as it comes: a later failure keeps it
            print(f"  {name} {load}: {r['rps']:.0f} req/s, p99 {r['p99']:.1f} ms", flush=True)

    print(
        f"\n{'server':8} {'load':9} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'requests':>9} {'errors':>7} {'CPU ms/req':>10} {'max ms':>8}"
    )
    for name, runs in results.items():
        for load, r in runs.items():
            print(
                f"{name:8} {load:9} {r['rps']:8.0f} {r['p50']:8.1f} {r['p90']:8.1f} "
                f"{r['p99']:8.1f} {r['requests']:9.0f} {r['errors']:7.0f} {r['cpu_ms']:10.2f}"
                f" {r['max']:8.1f}"
            )
    if "vod" in results:
        for load in ("distinct", "zipf"):
            ratios = [
                f"{results['vod'][load]['rps'] / results[other][load]['rps']:.2f}x {other}"
                for other in ("plain", "fts5")
                if other in results
            ]
            if ratios:
                print(f"vod req/s, {load}: " + ", ".join(ratios))
    if single_ms:
        print(
            f"\none client alone, vod /search (ms)\n{'kind':10} {'n':>4} {'p50':>7} {'p95':>7} {'max':>7}"
        )
        for kind, values in single_ms.items():
            print(
                f"{kind:10} {len(values):4} {statistics.median(values):7.1f} "
                f"{pct(values, 95):7.1f} {max(values):7.1f}"
            )
        every = [v for values in single_ms.values() for v in values]
        print(
            f"{'ALL':10} {len(every):4} {statistics.median(every):7.1f} {pct(every, 95):7.1f} "
            f"{max(every):7.1f}"
        )
    if memory:
        print("RSS per vod worker at the end: " + ", ".join(f"{m:.0f} MB" for m in memory))
    if "vod" in results:
        vod = results["vod"]
        checks = [
            ("distinct >= 600 req/s", vod["distinct"]["rps"] >= TARGETS["distinct_rps"]),
            ("distinct p99 <= 100 ms", vod["distinct"]["p99"] <= TARGETS["distinct_p99"]),
            ("Zipf >= 1,500 req/s", vod["zipf"]["rps"] >= TARGETS["zipf_rps"]),
        ]
        if single_ms:
            every = [v for values in single_ms.values() for v in values]
            checks += [
                ("one client p95 <= 20 ms", pct(every, 95) <= TARGETS["single_p95"]),
                ("one client max <= 150 ms", max(every) <= TARGETS_MAX),
            ]
        print()
        for label, ok in checks:
            print(f"{'met' if ok else 'NOT met':8} {label}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
