"""Load on 127.0.0.1: talk pages and searches against `vod serve --workers 2`, with wrk.

Measures, in one run:
- requests/s and latency percentiles for talk pages: 2,000 talks over and over (a hot set,
  served from the pages each worker keeps after the first view, vod/web/middleware.py), and every
  talk of the catalog once, in random order (each one rendered); and for searches, both a small
  set of repeated queries and distinct queries that no cache has seen;
- the same talk-page load while `vod index --full` rebuilds the index and the workers swap to
  the new version (the load goes on until they serve it): failed requests, latency (each
  percentile is the worst of the 5 s chunks);
- resident memory of each worker through a soak of mixed requests (every talk of the catalog,
  distinct and repeated searches), sampled after each chunk: it must level off;
- the ceiling of this stack: a minimal Starlette app that renders the same talk template from
  a ready-made page object, under the same uvicorn settings; vod's talk pages as a ratio of it.

wrk runs with one thread: on a 2-core machine a second load thread takes CPU from the two
workers being measured (it doubled p99 in our runs), and one thread drives far more than the
server can answer.

Usage (wrk from Debian: apt-get install wrk):
    python bench/bench_load.py --catalog DIR [--duration 15] [--connections 32] [--soak 6]
DIR is a vod catalog, e.g. one made by `vod import pyvideo ../shared/data/pyvideo-data.tar.gz
--out DIR`. Every request loop is bounded by --duration; the script stops what it started.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDLE_BETWEEN_RUNS = 2.0  # seconds
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
    "rust",
    "concurrency",
    "jupyter",
    "speaker:hettinger",
    "async*",
    "visualization",
    "performance",
    "pydantic",
]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} never answered")


def worker_pids(parent: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout
    pids = [int(p) for p in out.split()]
    # uvicorn with --workers N: the children of the supervisor are the workers (plus a
    # resource tracker on some versions, which is tiny; keep only python processes).
    return [
        p
        for p in pids
        if "python" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")
        and "resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text(errors="replace")
    ]


def index_version(base: str) -> str:
    with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
        return str(json.load(response)["index"]["version"])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def combined(runs: list[dict[str, float]]) -> dict[str, float]:
    """Several wrk runs as one: totals, overall req/s, and each percentile's worst run."""
    seconds = sum(r["requests"] / r["rps"] for r in runs if r["rps"])
    total = sum(r["requests"] for r in runs)
    out = {k: max(r[k] for r in runs) for k in ("p50", "p90", "p99")}
    out.update(rps=total / seconds, requests=total, errors=sum(r["errors"] for r in runs))
    return out


def wrk(
    base: str,
    paths: list[str],
    seconds: int,
    connections: int,
    idle: float | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    """Run wrk over `paths` (rotating) and return req/s, latency percentiles and errors;
    each request with `headers` (wrk sends none of its own but Host)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n")
        script.write(
            "counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            "  return wrk.format('GET', paths[(counter % #paths) + 1])\n"
            "end\n"
            "bad = 0\n"
            "response = function(status, headers, body)\n"
            "  if status >= 400 then bad = bad + 1 end\n"
            "end\n"
        )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name]
        + [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
        + [base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    # wrk stops sending, but the server still finishes the requests in flight (32 distinct
    # searches are about half a second of work): let it, so no run inherits the last one's queue.
    time.sleep(IDLE_BETWEEN_RUNS if idle is None else idle)

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    # "Latency   44.46ms   19.97ms 593.81ms   95.97%": average, deviation, then the slowest.
    slowest = float("nan")
    if m := re.search(r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\s", out, re.M):
        value, unit = float(m.group(1)), m.group(2)
        slowest = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "max": slowest,
        "p50": ms("50"),
        "p90": ms("90"),
        "p99": ms("99"),
        "requests": total,
        "errors": errors,
    }


def serve(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def distinct_queries(catalog: object, count: int, rng: random.Random) -> list[str]:
    """`count` different queries of one or two title words, as people type them."""
    words = sorted(
        {
            w.lower()
            for talk in catalog.talks.values()  # type: ignore[attr-defined]
            for w in re.findall(r"[A-Za-z]{4,}", talk.title or "")
        }
    )
    seen: set[str] = set()
    while len(seen) < count:
        n = 1 if rng.random() < 0.4 else 2
        seen.add(" ".join(rng.sample(words, n)))
    out = sorted(seen)
    rng.shuffle(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--soak", type=int, default=6, help="chunks of mixed load (memory)")
    opts = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="vod-bench-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    env.update(
        VOD_CATALOG=str(opts.catalog),
        VOD_INDEX_DIR=str(work / "index"),
        VOD_MEDIA_DIR=str(work / "media"),
        PYTHONPATH=str(ROOT),
    )
    print(f"building the index of {opts.catalog} ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "vod", "index"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    sys.path.insert(0, str(ROOT))
    from vod.catalog import load_catalog

    catalog = load_catalog(opts.catalog)
    rng = random.Random(42)
    every_talk = sorted(catalog.talks)
    slugs = rng.sample(every_talk, min(2000, len(every_talk)))
    talk_paths = [f"/talks/{s}" for s in slugs]
    search_paths = ["/search?q=" + urllib.request.quote(q) for q in QUERIES]
    fresh = ["/search?q=" + urllib.request.quote(q) for q in distinct_queries(catalog, 40_000, rng)]
    fresh_for_run, fresh_for_soak = fresh[:20_000], fresh[20_000:]
    rng.shuffle(every_talk)
    every_talk_paths = [f"/talks/{slug}" for slug in every_talk]
    soak_paths: list[str] = []
    for i, slug in enumerate(every_talk):
        soak_paths.append(f"/talks/{slug}")
        if i % 10 == 0:
            soak_paths.append(fresh_for_soak[(i // 10) % len(fresh_for_soak)])
        if i % 10 == 5:
            soak_paths.append(search_paths[(i // 10) % len(search_paths)])
    print(
        f"{len(catalog.talks)} talks, {len(catalog.events)} events; "
        f"{opts.workers} workers, {opts.connections} connections, {opts.duration} s per run"
    )

    results: dict[str, dict[str, float]] = {}
    soak: list[tuple[float, dict[int, float]]] = []
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    vod = serve(
        [sys.executable, "-m", "vod", "serve", "--workers", str(opts.workers), "--port", str(port)],
        env,
        work / "vod.log",
    )
    try:
        wait_ready(base + "/healthz")
        workers = worker_pids(vod.pid)
        # Warm up: the index warms its frequent terms for about 4 s after start-up, and each
        # worker sees the hot set once (the kept run measures kept pages, the next one renders).
        wrk(base, talk_paths + search_paths, 10, opts.connections)
        served = 0.0
        soak.append((served, {p: rss_mb(p) for p in workers}))
        results["talk pages (2,000, kept)"] = wrk(base, talk_paths, opts.duration, opts.connections)
        results["talk pages (every talk once, rendered)"] = wrk(
            base, every_talk_paths, opts.duration, opts.connections
        )
        results["searches (24 repeated queries)"] = wrk(
            base, search_paths, opts.duration, opts.connections
        )
        results["searches (distinct queries)"] = wrk(
            base, fresh_for_run, opts.duration, opts.connections
        )
        version_before = index_version(base)
        # --full: every talk is indexed again into a new version, which the workers swap to.
        # The load runs in chunks until the build is over and the workers serve the new version.
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "vod", "index", "--full"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        chunks: list[dict[str, float]] = []
        version_after = version_before
        while len(chunks) < 40 and (rebuild.poll() is None or version_after == version_before):
            chunks.append(wrk(base, talk_paths, 5, opts.connections, idle=0))
            version_after = index_version(base)
        rebuild_rc = rebuild.wait()
        results["talk pages (2,000) during a rebuild"] = combined(chunks)
        swapped = (version_before, version_after)
        time.sleep(IDLE_BETWEEN_RUNS)
        served = sum(r["requests"] for r in results.values())
        soak.append((served, {p: rss_mb(p) for p in workers}))
        soak_errors = 0.0
        for chunk in range(opts.soak):
            shift = (chunk * 20_000) % len(soak_paths)
            r = wrk(base, soak_paths[shift:] + soak_paths[:shift], opts.duration, opts.connections)
            served += r["requests"]
            soak_errors += r["errors"]
            soak.append((served, {p: rss_mb(p) for p in workers}))
    finally:
        stop(vod)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ceiling = serve(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.ceiling_app:app",
            "--workers",
            str(opts.workers),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        {**env, "VOD_BENCH_SLUGS": ",".join(slugs[:200])},
        work / "ceiling.log",
    )
    try:
        wait_ready(base + "/healthz")
        wrk(base, talk_paths[:200], 5, opts.connections)
        results["ceiling (same template from a dict)"] = wrk(
            base, talk_paths[:200], opts.duration, opts.connections
        )
    finally:
        stop(ceiling)

    print(
        f"\n{'run':40} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'requests':>9} {'errors':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:40} {r['rps']:8.0f} {r['p50']:8.1f} {r['p90']:8.1f} {r['p99']:8.1f} "
            f"{r['requests']:9.0f} {r['errors']:7.0f}"
        )
    ceiling_rps = results["ceiling (same template from a dict)"]["rps"]
    for name in ("talk pages (2,000, kept)", "talk pages (every talk once, rendered)"):
        r = results[name]
        print(
            f"\n{name}: {r['rps'] / ceiling_rps:.2f} of the ceiling (target >= 0.50), "
            f"p99 {r['p99']:.1f} ms (target <= 50 ms)"
        )
    during = results["talk pages (2,000) during a rebuild"]
    print(
        f"rebuild during load: exit {rebuild_rc}, {during['errors']:.0f} failed requests; "
        f"index {swapped[0]} -> {swapped[1]}"
    )
    print(f"\nRSS per worker (MB) after N requests in all; errors in the soak: {soak_errors:.0f}")
    print(f"{'requests':>9}  " + "  ".join(f"{p:>8}" for p in workers))
    for count, sample in soak:
        print(f"{count:9.0f}  " + "  ".join(f"{sample[p]:8.0f}" for p in workers))
    half = soak[len(soak) // 2]
    for pid in workers:
        growth = soak[-1][1][pid] - half[1][pid]
        print(
            f"worker {pid}: {growth:+.0f} MB over the last "
            f"{soak[-1][0] - half[0]:.0f} requests (from {half[1][pid]:.0f} MB)"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
