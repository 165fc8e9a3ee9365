"""Search latency over a full catalog, through the HTTP API of a warm `vod serve`, and a baseline.

Measures, in one run:
- /api/search (top 10, snippets, facets, spelling) per query kind: p50, p95, max, client side,
  with HTTP keep-alive, one request at a time, against `vod serve --workers 1`;
- /api/suggest for prefixes of titles and names: p50, p95, max;
- the same search queries on a plain Whoosh index of the same talks, in this process (no HTTP):
  default analyzers, every field with positions, MultifieldParser with fuzzy terms, the exact
  hit count, 2 snippets per hit (as /work/shared/WHOOSH-NOTES.md defines "plain Whoosh").

Queries are generated from the catalog with a fixed seed: words, AND, OR, phrases and prefixes
taken from titles, speaker names, misspelled words, `word~1`, the same words with filters or a
sort, filters alone, and a few hostile queries (many prefixes, `*x*` wildcards, 32 common words).
The server is warmed with other queries from another seed, so measured queries are unseen.

Usage:
    python bench/bench_search.py --catalog DIR [--workdir DIR] [--per-kind 40] [--no-plain]
DIR is a vod catalog, e.g. `vod import pyvideo ../shared/data/pyvideo-data.tar.gz --out DIR`.
The vod and plain indexes are kept in --workdir (default: a folder under /tmp) and reused.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STOP = {
    *("the", "and", "for", "with", "from", "into", "your", "that", "this", "what", "how", "why"),
    *("when", "are", "you", "our", "can", "not", "using", "use", "about", "all", "have", "more"),
    *("than", "will", "its"),
}
TARGETS = {"search_p95": 30.0, "suggest_p95": 10.0, "max_per_kind": 250.0}


# ---- queries ---------------------------------------------------------------------------------


def make_queries(catalog: Any, per_kind: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    """(kind, URL parameters) for each query, deterministic for a seed."""
    rnd = random.Random(seed)
    talks = sorted(catalog.talks.values(), key=lambda t: t.slug)
    titled = [t for t in talks if t.title and re.search(r"[A-Za-z]{4,}", t.title)]
    years = sorted({str(e.year) for e in catalog.events.values()})
    events = sorted(catalog.events)

    def words(talk: Any) -> list[str]:
        return [w.lower() for w in re.findall(r"[A-Za-z]{4,}", talk.title) if w.lower() not in STOP]

    out: list[tuple[str, dict[str, str]]] = []

    def add(kind: str, make: Any) -> None:
        made = 0
        for _ in range(per_kind * 50):
            if made == per_kind:
                return
            params = make()
            if params:
                out.append((kind, params))
                made += 1

    def one_word() -> str | None:
        w = words(rnd.choice(titled))
        return rnd.choice(w) if w else None

    add("word", lambda: (w := one_word()) and {"q": w})
    add(
        "and",
        lambda: (
            (w := words(rnd.choice(titled))) and len(w) > 1 and {"q": " ".join(rnd.sample(w, 2))}
        ),
    )
    add("or", lambda: (a := one_word()) and (b := one_word()) and {"q": f"{a} OR {b}"})

    def phrase() -> dict[str, str] | None:
        ws = re.findall(r"[A-Za-z]+", rnd.choice(titled).title)
        if len(ws) < 3:
            return None
        i = rnd.randrange(len(ws) - 1)
        return {"q": f'"{ws[i].lower()} {ws[i + 1].lower()}"'}

    add("phrase", phrase)
    add("prefix", lambda: (w := one_word()) and {"q": w[:4] + "*"})
    people = sorted({s for t in talks for s in t.speakers})

    def speaker() -> dict[str, str] | None:
        name = catalog.speakers[rnd.choice(people)].name
        return {"q": name} if name and len(name.split()) >= 2 else None

    add("speaker", speaker)

    def typo() -> dict[str, str] | None:
        w = [x for x in words(rnd.choice(titled)) if len(x) >= 6]
        if not w:
            return None
        x = rnd.choice(w)
        i = rnd.randrange(1, len(x) - 1)
        op = rnd.choice("dsi")
        if op == "d":
            x = x[:i] + x[i + 1 :]
        elif op == "s":
            x = x[:i] + x[i + 1] + x[i] + x[i + 2 :]
        else:
            x = x[:i] + rnd.choice("aeiou") + x[i:]
        return {"q": x}

    add("typo", typo)
    add("fuzzy", lambda: (w := one_word()) and {"q": w + "~1"})
    add("filtered", lambda: (w := one_word()) and {"q": w, "year": rnd.choice(years)})
    add("sorted", lambda: (w := one_word()) and {"q": w, "sort": rnd.choice(["newest", "oldest"])})
    add("browse", lambda: {"event": rnd.choice(events)})
    return out


def hostile_queries(catalog: Any) -> list[tuple[str, dict[str, str]]]:
    """Queries that once took seconds in Whoosh (WHOOSH-NOTES.md), and what vod makes of them."""
    common: dict[str, int] = defaultdict(int)
    for talk in catalog.talks.values():
        for w in re.findall(r"[a-z]{3,}", (talk.title or "").lower()):
            common[w] += 1
    top = [w for w, _ in sorted(common.items(), key=lambda kv: -kv[1]) if w not in STOP][:32]
    texts = [
        " ".join(f"{w[:3]}*" for w in top[:12]),
        " ".join(f"*{c}*" for c in "abcdefghijklmnopqrst"),
        " ".join(top),
        " OR ".join(top[:16]),
        '"' + " ".join(top[:20]) + '"',
        "x" * 400,
        "pro* dat* web* tes* int* con*",
        "(" * 50 + "python" + ")" * 50,
    ]
    return [("hostile", {"q": t}) for t in texts]


def suggest_prefixes(catalog: Any, count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    titles = sorted(t.title for t in catalog.talks.values() if t.title)
    names = sorted(s.name for s in catalog.speakers.values() if s.name)
    out = []
    while len(out) < count:
        text = rnd.choice(titles) if rnd.random() < 0.6 else rnd.choice(names)
        words = text.split()
        word = rnd.choice(words)
        if len(word) >= 2:
            out.append(word[: rnd.randint(2, min(8, len(word)))])
    return out


# ---- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def vod_serve(catalog: Path, index_dir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "VOD_CATALOG": str(catalog),
        "VOD_INDEX_DIR": str(index_dir),
        "VOD_MEDIA_DIR": str(index_dir.parent / "media"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "vod", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 900  # the first start may build the index
        while True:
            if process.poll() is not None:
                raise SystemExit(f"vod serve exited with {process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("vod serve did not start")
            time.sleep(0.5)
        yield ("127.0.0.1", port)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def timed_get(conn: http.client.HTTPConnection, path: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    return (time.perf_counter() - started) * 1000, response.status, body


# ---- plain Whoosh ----------------------------------------------------------------------------


def plain_whoosh(catalog: Any, folder: Path) -> Any:
    """A Whoosh index with default settings: what a first try with Whoosh looks like."""
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    if not index.exists_in(str(folder)):
        folder.mkdir(parents=True, exist_ok=True)
        schema = Schema(
            slug=ID(stored=True, unique=True),
            title=TEXT(stored=True),
            abstract=TEXT(stored=True),
            speakers=TEXT(stored=True),
            event=TEXT,
            tags=TEXT,
        )
        ix = index.create_in(str(folder), schema)
        writer = ix.writer(limitmb=256)
        for talk in catalog.talks.values():
            people = [catalog.speakers[s].name or "" for s in talk.speakers]
            event = catalog.events[talk.event]
            writer.add_document(
                slug=talk.slug,
                title=talk.title or "",
                abstract=talk.abstract or "",
                speakers=" ".join(people),
                event=f"{event.name} {event.slug}",
                tags=" ".join(talk.tags),
            )
        writer.commit(optimize=True)
    return index.open_dir(str(folder))


def plain_search(ix: Any, searcher: Any, text: str) -> int:
    from whoosh import qparser

    parser = qparser.MultifieldParser(["title", "abstract", "speakers", "event", "tags"], ix.schema)
    parser.add_plugin(qparser.FuzzyTermPlugin())
    q = parser.parse(text)
    results = searcher.search(q, limit=10)
    total = len(results)
    for hit in results:
        hit.highlights("abstract", top=2)
    return total


# ---- facets: Whoosh's groupedby and filter= against vod's columns ----------------------------


def compare_facets(index_dir: Path, queries: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    """Time facet counts and a year filter both ways, in this process, on the same matches."""

    from vod.index import SearchIndex

    index = SearchIndex(index_dir)
    # The version's lock, as searches take it: its background warm-up reads the same files.
    with index._using() as current:
        return _compare_facets(current, queries)


def _compare_facets(current: Any, queries: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    from whoosh import query as wq
    from whoosh import sorting

    from vod.index import Filters
    from vod.index.collect import collect
    from vod.index.query import clean_query, expand_prefixes, parse_query

    searcher, table = current.searcher, current.facets
    facets = [
        sorting.FieldFacet("event_slug"),
        sorting.FieldFacet("year"),
        sorting.FieldFacet("has_recording"),
        sorting.FieldFacet("speaker_slugs", allow_overlap=True),
        sorting.FieldFacet("company_keys", allow_overlap=True),
    ]
    whoosh_ms, vod_ms, filter_whoosh, filter_vod = [], [], [], []
    for kind, params in queries:
        if kind != "word":
            continue
        q = expand_prefixes(
            parse_query(clean_query(params["q"]), searcher.schema).query, searcher.reader()
        )
        found = collect(searcher, q, None, time.perf_counter() + 10)
        started = time.perf_counter()
        table.facets(found.seen, Filters())
        vod_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        plain = searcher.search(q, limit=10)
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        results = searcher.search(q, limit=10, groupedby=facets)
        for name in ("event_slug", "year", "has_recording", "speaker_slugs", "company_keys"):
            results.groups(name)
        whoosh_ms.append((time.perf_counter() - started - baseline) * 1000)
        del plain
        year = "2019"
        started = time.perf_counter()
        searcher.search(q, limit=10, filter=wq.Term("year", year))
        filter_whoosh.append((time.perf_counter() - started - baseline) * 1000)
        started = time.perf_counter()
        allowed = table.allowed(Filters(year=(year,)))
        [d for d in found.seen if allowed is not None and d in allowed]
        filter_vod.append((time.perf_counter() - started) * 1000)
    return {
        "facets: Whoosh groupedby (extra)": whoosh_ms,
        "facets: vod columns": vod_ms,
        "year filter: Whoosh filter= (extra)": filter_whoosh,
        "year filter: vod sets": filter_vod,
    }


# ---- report ----------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def row(label: str, values: list[float]) -> str:
    return (
        f"{label:10} {len(values):5} {pct(values, 0.5):8.1f} {pct(values, 0.95):8.1f}"
        f" {max(values, default=0):8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True, help="A vod catalog folder.")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vod-bench-search"))
    parser.add_argument("--per-kind", type=int, default=40, help="Queries of each kind.")
    parser.add_argument("--suggestions", type=int, default=400, help="Suggest requests.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-plain", action="store_true", help="Skip the plain Whoosh baseline.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=0.8,
        help="Wait (up to 10 min) for the 1-minute load average to fall below this first: "
        "other work on the machine shows up in every percentile.",
    )
    args = parser.parse_args()

    from vod.catalog import load_catalog
    from vod.index import build_index, index_state

    args.workdir.mkdir(parents=True, exist_ok=True)
    waited = time.monotonic()
    while os.getloadavg()[0] > args.quiet_load and time.monotonic() - waited < 600:
        time.sleep(10)
    print(f"load average (1 min) at the start: {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    catalog = load_catalog(args.catalog)
    print(f"catalog: {len(catalog.talks)} talks, loaded in {time.perf_counter() - started:.1f} s")
    index_dir = args.workdir / "vod-index"
    if index_state(index_dir, catalog) != "current":
        started = time.perf_counter()
        build_index(catalog, index_dir)
        print(f"vod index built in {time.perf_counter() - started:.1f} s")
    queries = make_queries(catalog, args.per_kind, args.seed) + hostile_queries(catalog)
    warmup = make_queries(catalog, 5, args.seed + 1000)
    prefixes = suggest_prefixes(catalog, args.suggestions, args.seed)

    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = defaultdict(list)
    suggest_times: list[float] = []
    failures = 0
    with vod_serve(args.catalog, index_dir) as (host, port):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        for _, params in warmup:
            timed_get(conn, "/api/search?" + urllib.parse.urlencode(params))
        for prefix in suggest_prefixes(catalog, 20, args.seed + 1000):
            timed_get(conn, "/api/suggest?" + urllib.parse.urlencode({"q": prefix}))
        for kind, params in queries:
            elapsed, status, _ = timed_get(conn, "/api/search?" + urllib.parse.urlencode(params))
            if status >= 500:
                failures += 1
            times[kind].append(elapsed)
        for prefix in prefixes:
            elapsed, status, _ = timed_get(
                conn, "/api/suggest?" + urllib.parse.urlencode({"q": prefix})
            )
            failures += status >= 500
            suggest_times.append(elapsed)
        conn.close()

    facet_times = compare_facets(index_dir, queries)
    plain: dict[str, list[float]] = defaultdict(list)
    if not args.no_plain:
        started = time.perf_counter()
        ix = plain_whoosh(catalog, args.workdir / "plain-whoosh")
        print(f"plain Whoosh index ready in {time.perf_counter() - started:.1f} s")
        with ix.searcher() as searcher:
            for _, params in warmup:
                plain_search(ix, searcher, params.get("q") or "python")
            for kind, params in queries:
                if "q" not in params or kind in ("filtered", "sorted", "browse", "hostile"):
                    # Plain Whoosh has no facets or filters to compare, and hostile queries
                    # take it seconds to minutes each (WHOOSH-NOTES.md): not run here.
                    continue
                started = time.perf_counter()
                # Plain Whoosh fails on some input; the time is counted anyway.
                with contextlib.suppress(Exception):
                    plain_search(ix, searcher, params["q"])
                plain[kind].append((time.perf_counter() - started) * 1000)

    load_after = os.getloadavg()[0]
    searches = [t for kind, v in times.items() if kind != "hostile" for t in v]
    print(f"\nload average (1 min) before the HTTP run {load_before:.2f}, after {load_after:.2f}")
    print(f"\nvod through HTTP (top 10, snippets, facets), ms; {failures} responses >= 500")
    print(f"{'kind':10} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8}")
    for kind, values in times.items():
        print(row(kind, values))
    print(row("ALL", searches) + "   (hostile excluded)")
    print(row("suggest", suggest_times))
    if plain:
        print("\nplain Whoosh in-process (top 10, 2 snippets, exact count), ms")
        for kind, values in plain.items():
            print(row(kind, values))
        print(row("ALL", [t for kind, v in plain.items() if kind != "hostile" for t in v]))
    print("\nfacets and filters on the same matches (word queries, in-process), ms")
    for label, values in facet_times.items():
        print(f"{label:38} p50 {pct(values, 0.5):7.2f}  p95 {pct(values, 0.95):7.2f}")
    worst = max(max(v) for v in times.values())
    checks = {
        f"search p95 <= {TARGETS['search_p95']:g} ms": pct(searches, 0.95) <= TARGETS["search_p95"],
        f"suggest p95 <= {TARGETS['suggest_p95']:g} ms": pct(suggest_times, 0.95)
        <= TARGETS["suggest_p95"],
        f"no query above {TARGETS['max_per_kind']:g} ms": worst <= TARGETS["max_per_kind"],
    }
    print()
    for label, ok in checks.items():
        print(f"{'met    ' if ok else 'NOT met'} {label}")
    if args.json:
        figures = {
            "vod": {
                k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "max": max(v)}
                for k, v in times.items()
            },
            "suggest": {"p50": pct(suggest_times, 0.5), "p95": pct(suggest_times, 0.95)},
            "plain": {
                k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "max": max(v)}
                for k, v in plain.items()
            },
            "checks": checks,
        }
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
