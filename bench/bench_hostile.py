"""CPU time of hostile searches on a full catalog (issue #10, item 5: no query pins a core).

Generates a set of hostile queries with hypothesis (a fixed seed): runs of the query syntax's
pieces (operators, `*`, `?`, escaped blanks and tabs, ideographic and no-break spaces, quotes,
parentheses, field names, `+`/`-`, `~`, `^`) mixed with the corpus's most frequent words,
quoted phrases of one frequent word repeated up to 31 times, many prefixes of frequent words,
and the queries issue #10 names. Each is searched once in this process (nothing kept between
them), and the searching thread's CPU time is measured: the whole search (parsing, guards,
prefix expansion, scoring, spelling, facets, snippets), not only the part the budget covers.

Usage:
    python bench/bench_hostile.py --catalog DIR [--index-dir DIR] [--count 2000]
Without --index-dir the index is built (`vod index`) into a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_MS = 250.0  # the bound on one search's CPU time
PIECES = [
    "*",
    "?",
    "\\ ",
    "\\\t",
    "\\",
    "(",
    ")",
    '"',
    "-",
    "+",
    "~",
    "~2",
    "^3",
    "title:",
    "speaker:",
    "event:",
    "tag:",
    "said:",
    "AND",
    "OR",
    "NOT",
    "ANDNOT",
    "ANDMAYBE",
    "REQUIRE",
    "*a*",
    "a",
    "x",
]
SPACES = [" ", " ", "\t", "\u3000", "\u00a0", ""]
NAMED = [
    "x\\ *",
    "python \\ *",
    "a\u3000ANDNOT(zpython\\\t*",
]


def frequent_words(catalog: object, count: int) -> list[str]:
    """The words most used in titles (3 letters or more)."""
    found: Counter[str] = Counter()
    for talk in catalog.talks.values():  # type: ignore[attr-defined]
        found.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", talk.title or ""))
    return [w for w, _ in found.most_common(count)]


def hostile_queries(words: list[str], count: int) -> list[str]:
    """`count` different hostile queries, the same ones for the same words (a fixed seed)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    word = st.sampled_from(words)
    piece = st.one_of(st.sampled_from(PIECES), word, word.map(lambda w: w[:3] + "*"))
    run = st.lists(st.tuples(piece, st.sampled_from(SPACES)), min_size=1, max_size=32).map(
        lambda pairs: "".join(p + s for p, s in pairs)
    )
    repeated = st.tuples(word, st.integers(2, 31)).map(
        lambda wn: '"' + " ".join([wn[0]] * wn[1]) + '"'
    )
    phrase = st.lists(word, min_size=2, max_size=31).map(lambda ws: '"' + " ".join(ws) + '"')
    prefixes = st.lists(word, min_size=2, max_size=16).map(
        lambda ws: " ".join(w[:3] + "*" for w in ws)
    )
    ored = st.lists(word, min_size=2, max_size=16).map(" OR ".join)
    strategy = st.one_of(run, run, run, repeated, phrase, prefixes, ored)
    found: list[str] = []

    @settings(
        max_examples=count * 2,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(text: str) -> None:
        found.append(text)

    collect()
    return list(dict.fromkeys(NAMED + found))[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, help="a vod index folder to use (kept)")
    parser.add_argument("--count", type=int, default=2000, help="hostile queries to run")
    opts = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vod-bench-hostile-"))
    index_dir = opts.index_dir or work / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    env.update(VOD_CATALOG=str(opts.catalog), VOD_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "vod", "index"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    import logging

    from vod.catalog import load_catalog
    from vod.errors import QueryError
    from vod.index import SearchIndex

    logging.disable(logging.WARNING)  # "ran out of time" is expected here, and counted
    catalog = load_catalog(opts.catalog)
    queries = hostile_queries(frequent_words(catalog, 60), opts.count)
    index = SearchIndex(index_dir)
    opened = index._current()
    time.sleep(8)  # the background decoding of frequent terms, as on a warm server
    with opened.lock:
        pass
    print(
        f"{len(catalog.talks)} talks; {len(queries)} hostile queries; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    times: list[tuple[float, str, str]] = []
    refused = partial = 0
    for text in queries:
        started = time.thread_time()
        try:
            results = index.search(text)
            outcome = f"{results.total} found" + (", partial" if results.partial else "")
            partial += results.partial
        except QueryError:
            outcome = "refused"
            refused += 1
        times.append(((time.thread_time() - started) * 1000, text, outcome))
    cpu = sorted(t for t, _, _ in times)
    p99 = cpu[min(len(cpu) - 1, round(0.99 * (len(cpu) - 1)))]
    print(
        f"CPU ms per search: p50 {statistics.median(cpu):.1f}  p99 {p99:.1f}  "
        f"worst {cpu[-1]:.1f}  (refused {refused}, partial {partial})"
    )
    print("the slowest:")
    for ms, text, outcome in sorted(times, reverse=True)[:8]:
        print(f"  {ms:7.1f} ms  {text[:70]!r}  ({outcome})")
    over = [t for t in cpu if t > LIMIT_MS]
    print(
        f"{'met' if not over else 'NOT met':8} no search above {LIMIT_MS:.0f} ms of CPU"
        + (f" ({len(over)} above)" if over else "")
    )
    if opts.index_dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
