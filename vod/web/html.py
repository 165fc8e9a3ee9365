"""The HTML pages: home, events, talks and their embeds, speakers, years, search.

Read the request, ask for the finished page, render it. Whoosh and the S3 client block, so
pages that may use a remote store run in Starlette's thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from vod import pages
from vod.catalog import Catalog, Talk
from vod.errors import IndexNotBuilt
from vod.storage import LocalStorage, Playback
from vod.timecode import parse_moment
from vod.urls import SiteUrls
from vod.web.responses import (
    PAGE_CACHE,
    TALK_CACHE,
    page_number,
    redirect_old_slug,
    render,
    year_number,
)
from vod.web.state import AppState, site_base, site_urls, vod_state


async def talk(request: Request) -> Response:
    return await _on_loop_when_local(_talk, request)


async def _on_loop_when_local(view: Callable[[Request], Response], request: Request) -> Response:
    """Run a page view that does no network I/O on the event loop, else in the thread pool.

    A talk page costs about a millisecond of CPU, a search a few. Rendered in the thread pool,
    16 of them at once in a worker fight the event loop for the GIL, and the slowest waits for
    all the others (p99 180 ms at 32 connections); on the loop they are served one after the
    other, and each costs less CPU (a search 9.0 ms instead of 10.6 under wrk). Pages that
    may ask a remote store whether a recording exists still go to the thread pool.
    """
    if vod_state(request).recordings.storage.kind == "local":
        return view(request)
    return await run_in_threadpool(view, request)


def _talk(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := redirect_old_slug(request, "talk", slug)) is not None:
        return moved
    state = vod_state(request)
    catalog = state.catalog
    base = site_base(request)
    talk = catalog.talk(slug)
    playback = state.recordings.playback(talk)  # the one question to the store
    start_at = parse_moment(request.query_params.get("t"))
    end_at = parse_moment(request.query_params.get("end"))
    key = _kept_key(state, catalog, base, talk, playback, start_at, end_at)
    kept, asked_before = state.rendered.look(key) if key is not None else (None, False)
    if kept is not None:
        return kept.response(request, TALK_CACHE)
    page = pages.talk_page(
        catalog,
        state.recordings,
        state.search,
        SiteUrls(base),
        talk,
        playback,
        start_at,
        end_at,
        facts=state.card_facts,
    )
    response = render(request, "talk.html", cache=TALK_CACHE, page=page, links=page.links)
    if key is not None and response.status_code == 200:
        return state.rendered.keep(key, response, TALK_CACHE, request, asked_before=asked_before)
    return response


def _kept_key(
    state: AppState,
    catalog: Catalog,
    base: str,
    talk: Talk,
    playback: Playback,
    start_at: int | None,
    end_at: int | None,
) -> tuple[Any, ...] | None:
    """Key a rendered talk page by all it depends on; None when it must not be kept."""
    if playback.status == "unavailable" or (
        playback.status == "ok" and not state.recordings.storage.stable_urls
    ):
        return None  # presigned URLs expire; an outage note should go when the store is back
    served = _served(state, catalog, base)
    if served is None:
        return None
    return (*served, talk.slug, start_at, end_at, playback.status, playback.src)


def _served(state: AppState, catalog: Catalog, base: str) -> tuple[str, ...] | None:
    """What every kept page depends on: the catalog, its media (posters, durations, downloads:
    issue #14), the index version and the site's address (the page's absolute links); None
    while no index is built."""
    try:
        version = state.search.info.path.name
    except IndexNotBuilt:
        return None
    return (catalog.digest, catalog.media_digest, version, base)


async def embed(request: Request) -> Response:
    return await _on_loop_when_local(_embed, request)


def _embed(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := redirect_old_slug(request, "embed", slug)) is not None:
        return moved
    state = vod_state(request)
    talk = state.catalog.talk(slug)
    start_at = parse_moment(request.query_params.get("t"))
    end_at = parse_moment(request.query_params.get("end"))
    page = pages.talk_page(
        state.catalog,
        state.recordings,
        state.search,
        site_urls(request),
        talk,
        state.recordings.playback(talk),
        start_at,
        end_at,
        facts=state.card_facts,
    )
    return render(request, "embed.html", cache=TALK_CACHE, page=page)


def year(request: Request) -> Response:
    state = vod_state(request)
    return render(request, "year.html", page=pages.year_page(state.catalog, year_number(request)))


async def search(request: Request) -> Response:
    return await _on_loop_when_local(_search, request)


def _search(request: Request) -> Response:
    state = vod_state(request)
    number = page_number(request)
    key = _kept_search_key(state, site_base(request), request)
    kept, asked_before = state.searched.look(key) if key is not None else (None, False)
    if kept is not None:
        return kept.response(request, PAGE_CACHE)
    page, status = pages.run_search(
        state.catalog, state.search, request.query_params, number, state.card_facts
    )
    response = render(request, "search.html", status=status, page=page)
    if key is not None and status == 200 and not (page.results and page.results.partial):
        return state.searched.keep(key, response, PAGE_CACHE, request, asked_before=asked_before)
    return response


def _kept_search_key(state: AppState, base: str, request: Request) -> tuple[Any, ...] | None:
    """Key a rendered search page by all it depends on; None when it must not be kept.

    The same search asked again (a shared link, the searches everybody makes) is answered with
    the page rendered the first time, until the index version, the catalog, its media or the
    site's address change. A search cut short by its time budget is not kept (see _search).
    """
    if not state.recordings.storage.stable_urls:
        return None  # presigned poster URLs expire
    served = _served(state, state.catalog, base)
    return None if served is None else (*served, tuple(request.query_params.multi_items()))


def media(request: Request) -> Response:
    """Serve a local recording with Range support; nothing outside the media folder."""
    storage = vod_state(request).recordings.storage
    if not isinstance(storage, LocalStorage):
        raise HTTPException(404, "recordings are not served from this host")
    path = storage.path_for(request.path_params["key"])
    if path is None:
        raise HTTPException(404, "no such recording")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
