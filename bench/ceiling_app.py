"""The ceiling for bench_load.py: Starlette rendering vod's talk template from a dict.

No catalog lookups, storage, middleware or index per request: the page objects are made once
at start-up, so what remains is this stack's own cost (uvicorn, routing, Jinja2). It gets the
best this stack allows, as vod does: the page renders on the event loop (no thread pool), and
the objects made at start-up are frozen out of garbage-collector passes.
Run by bench_load.py as `uvicorn bench.ceiling_app:app`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vod import pages
from vod.catalog import load_catalog
from vod.config import Settings
from vod.index import SearchIndex
from vod.storage import LocalStorage, Recordings
from vod.urls import SiteUrls
from vod.web.app import make_templates
from vod.web.routes import routes as vod_routes

settings = Settings.from_env()
templates = make_templates(settings)
_catalog = load_catalog(settings.catalog)
_recordings = Recordings(LocalStorage(settings.media_dir))
_slugs = [s for s in os.environ.get("VOD_BENCH_SLUGS", "").split(",") if s] or list(_catalog.talks)[
    :200
]
_search = SearchIndex(settings.index_dir)
# Absolute links on a fixed base: what they say does not change the rendering's cost.
_urls = SiteUrls(settings.base_url or "http://127.0.0.1")
PAGES: dict[str, Any] = {}
for _slug in _slugs:
    _talk = _catalog.talk(_slug)
    PAGES[_slug] = pages.talk_page(
        _catalog, _recordings, _search, _urls, _talk, _recordings.playback(_talk)
    )
_first = next(iter(PAGES))
gc.collect()
gc.freeze()


async def talk(request: Request) -> Response:
    slug = request.path_params["slug"]
    slug = slug if slug in PAGES else _first
    page = PAGES[slug]
    return templates.TemplateResponse(request, "talk.html", {"page": page, "links": page.links})


def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    # Templates read settings (base URL) from the request state, as in vod.
    yield {"vod": SimpleNamespace(settings=settings, recordings=_recordings)}


def _routes() -> list[Any]:
    """vod's own route table (templates link to routes by name), with the talk page replaced."""
    table: list[Any] = [Route("/healthz", healthz, name="healthz")]
    for route in vod_routes(settings):
        if getattr(route, "name", None) == "talk":
            table.append(Route("/talks/{slug}", talk, name="talk"))
        elif getattr(route, "name", None) != "healthz":
            table.append(route)  # linked to by name, never requested here
    return table


app = Starlette(routes=_routes(), lifespan=lifespan)
