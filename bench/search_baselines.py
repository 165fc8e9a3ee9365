"""The two baselines of bench_search_load.py: plain Whoosh and SQLite FTS5 search pages.

Each is a tiny Starlette app with one HTML page, `/search?q=`, that lists the top 10 titles
with the number of matches, and `/healthz`. No snippets, facets, spelling or caches: what the
search engine alone costs, served by the same stack (uvicorn, Starlette) as vod.

- `plain_whoosh`: Whoosh as its documentation shows it, on vod's own index files (the same
  documents, fields and analyzers): one searcher per process, MultifieldParser over the searched
  fields (every word required), `searcher.search(q, limit=10)` and the exact count
  `len(results)`. VOD_BENCH_WHOOSH names the index version folder.
- `fts5`: an in-memory SQLite FTS5 table of the catalog (tests/relevance_set.py builds it; the
  unicode61 tokenizer, bm25), the words joined by AND, `LIMIT 10` and a `count(*)`.
  VOD_CATALOG names the catalog.

Run by bench_search_load.py as `uvicorn bench.search_baselines:plain_whoosh` (or `:fts5`).
"""

from __future__ import annotations

import html
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

SEARCHED = ["title", "people", "company", "session", "tags", "event", "abstract", "transcript"]


def _page(query: str, total: int, titles: list[str]) -> HTMLResponse:
    items = "".join(f"<li>{html.escape(t)}</li>" for t in titles)
    return HTMLResponse(
        f"<!doctype html><title>{html.escape(query)}</title><p>{total} talks</p><ol>{items}</ol>"
    )


def _app(search: Callable[[str], tuple[int, list[str]]]) -> Starlette:
    # Endpoints are async so the search runs on the event loop: one search at a time per
    # worker, as neither a Whoosh searcher nor an SQLite connection is shared between threads.
    async def page(request: Request) -> Response:
        query = request.query_params.get("q", "")
        total, titles = search(query)
        return _page(query, total, titles)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/search", page), Route("/healthz", healthz)])


def _whoosh() -> Starlette:
    from whoosh import index as whoosh_index
    from whoosh.qparser import MultifieldParser

    ix = whoosh_index.open_dir(os.environ["VOD_BENCH_WHOOSH"])
    searcher = ix.searcher()
    parser = MultifieldParser([f for f in SEARCHED if f in ix.schema], schema=ix.schema)

    def search(text: str) -> tuple[int, list[str]]:
        results = searcher.search(parser.parse(text), limit=10)
        return len(results), [hit.get("title", "") for hit in results]

    return _app(search)


def _fts5() -> Starlette:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from relevance_set import fts5_index, fts5_query  # type: ignore[import-not-found]

    from vod.catalog.cache import catalog_cache_dir, load_catalog_cached

    # The validated-file cache vod itself reads (the YAML of 21.7k talks takes a minute to
    # parse on a busy machine), kept beside vod's index.
    catalog = load_catalog_cached(
        Path(os.environ["VOD_CATALOG"]), catalog_cache_dir(Path(os.environ["VOD_INDEX_DIR"]))
    )
    db: sqlite3.Connection = fts5_index(catalog)
    titles = {t.slug: t.title or "" for t in catalog.talks.values()}

    def search(text: str) -> tuple[int, list[str]]:
        expr = fts5_query(text)
        if not expr:
            return 0, []
        try:
            rows: list[Any] = db.execute(
                "SELECT slug FROM talks WHERE talks MATCH ? ORDER BY bm25(talks) LIMIT 10", (expr,)
            ).fetchall()
            (total,) = db.execute(
                "SELECT count(*) FROM talks WHERE talks MATCH ?", (expr,)
            ).fetchone()
        except sqlite3.OperationalError:  # a query FTS5's syntax refuses: an empty page
            return 0, []
        return int(total), [titles.get(r[0], "") for r in rows]

    return _app(search)


def plain_whoosh() -> Starlette:
    """The plain Whoosh page (a uvicorn factory)."""
    return _whoosh()


def fts5() -> Starlette:
    """The SQLite FTS5 page (a uvicorn factory)."""
    return _fts5()
