"""`vod serve` on a large catalog: start-up to the first page, latency of pages, worker memory.

Measures, against a real `vod serve` on 127.0.0.1 with the index already built:
- start-up: from starting the `vod serve` process to the first 200 answer for `/` (median of
  --starts runs; each run is a new process, with the catalog cache and the index on disk);
- latency p50/p95 of `/talks/{slug}`, `/events/{event}`, `/search?q=`, `/` (home),
  `/speakers/{slug}` and `/talks?...` (browse: sorts, filters, pages), over HTTP, one keep-alive
  connection, a bounded loop of --requests requests per kind, each to a different talk, event,
  speaker, query or browse URL where the catalog has that many (the home page repeats);
- peak resident memory (VmHWM) of each worker process after the loops.

Usage:
    python bench/bench_serve.py --catalog DIR [--index-dir DIR] [--workers 2] [--requests 300]
DIR is a vod catalog, e.g. one made by `vod import pyvideo ../shared/data/pyvideo-data.tar.gz
--out DIR`. The index is built first when missing (not timed). The script stops the servers it
started, by their process ids.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def env_for(catalog: Path, index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    env.update(VOD_CATALOG=str(catalog), VOD_INDEX_DIR=str(index_dir), VOD_MEDIA_DIR="/nonexistent")
    return env


def start_server(
    catalog: Path, index_dir: Path, workers: int
) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start `vod serve`; return it, its port, and the seconds until `/` answered 200."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vod", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env_for(catalog, index_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while time.perf_counter() - start < START_TIMEOUT:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return proc, port, time.perf_counter() - start
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"vod serve exited with {proc.returncode}")
        time.sleep(0.01)
    stop(proc)
    raise SystemExit("vod serve did not answer within the time limit")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned (not multiprocessing's resource tracker)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    found = []
    for child in (int(p) for p in text.split()):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            found.append(child)
    return found


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_loop(port: int, paths: list[str]) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: list[float] = []
    for path in paths:
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True, help="A vod catalog folder.")
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/vod-bench-serve-index"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300, help="Requests per kind of page.")
    parser.add_argument("--starts", type=int, default=5, help="Server starts to time.")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    from vod.catalog import catalog_cache_dir, load_catalog_cached

    # Build the index (or bring it up to date) and warm the catalog cache: not timed.
    subprocess.run(
        [sys.executable, "-m", "vod", "index"],
        cwd=ROOT,
        env=env_for(args.catalog, args.index_dir),
        check=True,
        capture_output=True,
    )
    catalog = load_catalog_cached(args.catalog, catalog_cache_dir(args.index_dir))
    rng = random.Random(args.seed)
    n = args.requests
    talks = rng.sample(sorted(catalog.talks), min(n, len(catalog.talks)))
    events = sorted(catalog.events, key=lambda e: -catalog.event_talk_count(e))
    events = events[:5] + rng.sample(events[5:], min(n, len(events)) - 5)
    words = sorted(
        {
            w.lower()
            for t in catalog.talks.values()
            for w in (t.title or "").split()
            if w.isalpha() and len(w) > 4
        }
    )
    queries = rng.sample(words, min(n, len(words)))
    speakers = sorted(catalog.speakers, key=lambda s: -len(catalog.speaker_talks(s)))
    speakers = speakers[:5] + rng.sample(speakers[5:], min(n, len(speakers)) - 5)
    years = catalog.years()
    browse = [
        f"/talks?{query}"
        for query in (
            "",
            *(f"sort={s}" for s in ("newest", "oldest", "title", "longest", "shortest")),
            *(f"page={p}" for p in range(2, 40)),
            *(f"sort=title&page={p}" for p in range(2, 40)),
            *(f"year={y}" for y in years),
            *(f"year={y}&sort=longest" for y in years),
            *(f"event={e}" for e in events[:60]),
            *(f"recording=1&year={y}" for y in years),
        )
    ]
    # These are fewer than --requests on pyvideo (199 with its 19 years): sampling min(n, 199)
    # ran 199. All of them in random order, then again from the start, up to n requests.
    browse = rng.sample(browse, len(browse))
    browse = (browse * (n // len(browse) + 1))[:n]
    print(
        f"catalog: {len(catalog.talks)} talks, {len(catalog.events)} events; "
        f"largest event {events[0]} ({catalog.event_talk_count(events[0])} talks)"
    )

    starts: list[float] = []
    for _ in range(args.starts):
        proc, _, seconds = start_server(args.catalog, args.index_dir, 1)
        starts.append(seconds)
        stop(proc)
    if starts:  # --starts 0 measures the pages only
        print(
            f"start-up to first page (1 worker): median {statistics.median(starts):.2f} s, "
            f"max {max(starts):.2f} s over {len(starts)} starts"
        )

    proc, port, seconds = start_server(args.catalog, args.index_dir, args.workers)
    try:
        print(f"start-up to first page ({args.workers} workers): {seconds:.2f} s")
        kinds = {
            "/talks/{slug}": [f"/talks/{s}" for s in talks],
            "/events/{event}": [f"/events/{e}" for e in events],
            "/search?q=": [f"/search?q={quote(q)}" for q in queries],
            "/ (home)": ["/"] * n,
            "/speakers/{slug}": [f"/speakers/{s}" for s in speakers],
            "/talks?...": browse,
        }
        for label, paths in kinds.items():
            times = timed_loop(port, paths)
            print(
                f"{label:<17} p50 {pct(times, 50):6.1f} ms  p95 {pct(times, 95):6.1f} ms  "
                f"max {max(times):6.1f} ms  ({len(times)} requests)"
            )
        workers = workers_of(proc.pid) if args.workers > 1 else [proc.pid]
        rss = [peak_rss_mb(pid) for pid in workers]
        print(
            "peak RSS per worker: "
            + ", ".join(f"{r:.0f} MB" for r in rss)
            + f" (server process {peak_rss_mb(proc.pid):.0f} MB)"
        )
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
