"""Load on 127.0.0.1: talk pages and searches against `vod serve --workers 2`, with wrk.

Measures, in one run:
- requests/s and latency percentiles for talk pages and for searches (32 connections);
- the same talk-page load while `vod index` rebuilds and swaps the index: failed requests;
- resident memory of each worker before and after the load (10,000+ requests);
- the ceiling of this stack: a minimal Starlette app that renders the same talk template from
  a ready-made page object, under the same uvicorn settings; vod's talk pages as a ratio of it.

Usage (wrk from Debian: apt-get install wrk):
    python bench/bench_load.py --catalog DIR [--duration 15] [--connections 32]
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk(base: str, paths: list[str], seconds: int, connections: int) -> dict[str, float]:
    """Run wrk over `paths` (rotating) and return req/s, latency percentiles and errors."""
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
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)

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
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
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
    slugs = rng.sample(sorted(catalog.talks), min(2000, len(catalog.talks)))
    talk_paths = [f"/talks/{s}" for s in slugs]
    search_paths = ["/search?q=" + urllib.request.quote(q) for q in QUERIES]
    print(
        f"{len(catalog.talks)} talks, {len(catalog.events)} events; "
        f"{opts.workers} workers, {opts.connections} connections, {opts.duration} s per run"
    )

    results: dict[str, dict[str, float]] = {}
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
        wrk(base, talk_paths[:200] + search_paths, 5, opts.connections)  # warm up
        rss_before = {p: rss_mb(p) for p in workers}
        results["talk pages"] = wrk(base, talk_paths, opts.duration, opts.connections)
        results["searches"] = wrk(base, search_paths, opts.duration, opts.connections)
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "vod", "index"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results["talk pages during a rebuild"] = wrk(
            base, talk_paths, opts.duration, opts.connections
        )
        rebuild_rc = rebuild.wait()
        rss_after = {p: rss_mb(p) for p in workers}
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
    ratio = results["talk pages"]["rps"] / results["ceiling (same template from a dict)"]["rps"]
    print(f"\ntalk pages / ceiling: {ratio:.2f}  (target >= 0.50)")
    print(
        f"rebuild during load: exit {rebuild_rc}, "
        f"{results['talk pages during a rebuild']['errors']:.0f} failed requests"
    )
    served = sum(r["requests"] for r in list(results.values())[:3])
    for pid in rss_before:
        print(
            f"worker {pid}: RSS {rss_before[pid]:.0f} MB before, {rss_after[pid]:.0f} MB after "
            f"{served:.0f} requests across workers"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
