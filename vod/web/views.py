"""Endpoints: read the request, ask the catalog, index or store, hand finished data on.

Whoosh and the S3 client block, so endpoints that use them are plain `def` functions, which
Starlette runs in its thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)

from vod import pages
from vod.errors import IndexNotBuilt, NotFound, QueryError, TalkNotFound, YearNotFound
from vod.index.facets import FACET_NAMES, MAX_FILTER_VALUES, Filters
from vod.index.searcher import MAX_PAGE, SORTS
from vod.storage import LocalStorage
from vod.timecode import parse_moment
from vod.web.links import links_for
from vod.web.page_cache import KeptPage
from vod.web.routes import path_for
from vod.web.state import vod_state

log = logging.getLogger(__name__)

# Pages change only when the catalog does; a CDN may keep them briefly.
PAGE_CACHE = "public, max-age=60"
# Talk pages carry presigned URLs that expire, so they are cached for less time.
TALK_CACHE = "public, max-age=30"


class Urls:
    """Build absolute links for JSON and feeds, from VOD_BASE_URL or the request."""

    def __init__(self, request: Request) -> None:
        base = vod_state(request).settings.base_url
        self.base = base or str(request.base_url).rstrip("/")
        self.request = request

    def absolute(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base + path

    def talk(self, slug: str) -> str:
        return self.absolute(path_for(self.request.app, "talk", slug=slug))

    def speaker(self, slug: str) -> str:
        return self.absolute(path_for(self.request.app, "speaker", slug=slug))

    def event(self, slug: str) -> str:
        return self.absolute(path_for(self.request.app, "event", event=slug))


def _render(
    request: Request,
    template: str,
    status: int = 200,
    cache: str | None = PAGE_CACHE,
    **context: Any,
) -> Response:
    response = vod_state(request).templates.TemplateResponse(
        request, template, context, status_code=status
    )
    if cache and status == 200:
        response.headers["Cache-Control"] = cache
    return response


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    # ASCII digits only: str.isdigit() accepts "²", which int() then refuses (a 500).
    digits = raw.lstrip("0") if raw.isascii() and raw.isdigit() else ""
    if not digits or len(digits) > 5 or not 1 <= int(digits) <= 10_000:
        raise HTTPException(400, "page must be a whole number from 1 to 10000")
    return int(digits)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# ---- HTML pages ---------------------------------------------------------------------------


def home(request: Request) -> Response:
    state = vod_state(request)
    return _render(request, "home.html", page=pages.home_page(state.catalog))


def event(request: Request) -> Response:
    state = vod_state(request)
    page = pages.event_page(state.catalog, request.path_params["event"])
    return _render(request, "event.html", page=page)


def _redirect_old_slug(request: Request, slug: str, route: str) -> Response | None:
    current = vod_state(request).catalog.redirect_for(slug)
    if current is None:
        return None
    target = path_for(request.app, route, slug=current)
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(target, status_code=301)


async def talk(request: Request) -> Response:
    return await _on_loop_when_local(_talk, request)


async def _on_loop_when_local(view: Callable[[Request], Response], request: Request) -> Response:
    """Run a page view that does no network I/O on the event loop, else in the thread pool.

    A talk page costs about a millisecond of CPU. Rendered in the thread pool, 16 of them at
    once in a worker fight the event loop for the GIL, and the slowest waits for all the others
    (p99 180 ms at 32 connections); on the loop they are served one after the other. Pages that
    may ask a remote store whether a recording exists still go to the thread pool.
    """
    if vod_state(request).recordings.storage.kind == "local":
        return view(request)
    return await run_in_threadpool(view, request)


def _talk(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := _redirect_old_slug(request, slug, "talk")) is not None:
        return moved
    state = vod_state(request)
    start_at = parse_moment(request.query_params.get("t"))
    end_at = parse_moment(request.query_params.get("end"))
    catalog = state.catalog
    key = _rendered_key(request, catalog.digest, catalog.talk(slug), start_at, end_at)
    if key is not None and (kept := state.rendered.get(key)) is not None:
        return kept.response(request, TALK_CACHE)
    page = pages.talk_page(catalog, state.recordings, slug, start_at, end_at)
    page = pages.with_transcript(page, state.search)
    links = links_for(request, page)
    response = _render(request, "talk.html", cache=TALK_CACHE, page=page, links=links)
    if key is not None and response.status_code == 200:
        state.rendered.put(
            key, KeptPage.of(bytes(response.body), response.media_type or "text/html")
        )
    return response


def _rendered_key(
    request: Request, catalog_digest: str, talk: Any, start_at: int | None, end_at: int | None
) -> tuple[Any, ...] | None:
    """Key a rendered talk page by all it depends on; None when it must not be kept."""
    state = vod_state(request)
    playback = state.recordings.playback(talk)
    if playback.status == "unavailable" or (
        playback.status == "ok" and not state.recordings.storage.stable_urls
    ):
        return None  # presigned URLs expire; an outage note should go when the store is back
    try:
        version = state.search.info.path.name
    except IndexNotBuilt:
        return None
    return (
        catalog_digest,
        version,
        talk.slug,
        start_at,
        end_at,
        playback.status,
        playback.src,
        str(request.base_url),
    )


async def embed(request: Request) -> Response:
    return await _on_loop_when_local(_embed, request)


def _embed(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := _redirect_old_slug(request, slug, "embed")) is not None:
        return moved
    state = vod_state(request)
    start_at = parse_moment(request.query_params.get("t"))
    end_at = parse_moment(request.query_params.get("end"))
    page = pages.talk_page(state.catalog, state.recordings, slug, start_at, end_at)
    return _render(request, "embed.html", cache=TALK_CACHE, page=page)


def speaker(request: Request) -> Response:
    state = vod_state(request)
    return _render(
        request, "speaker.html", page=pages.speaker_page(state.catalog, request.path_params["slug"])
    )


def _year(request: Request) -> int:
    raw = request.path_params["year"]
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise YearNotFound(raw[:20])
    return int(raw)


def year(request: Request) -> Response:
    state = vod_state(request)
    return _render(request, "year.html", page=pages.year_page(state.catalog, _year(request)))


def _search_options(request: Request) -> tuple[Filters, str]:
    """Read the filters and the sort order of a search from its URL; QueryError if malformed."""
    params = request.query_params
    chosen: dict[str, tuple[str, ...]] = {}
    for name in FACET_NAMES:
        values = tuple(dict.fromkeys(v.strip() for v in params.getlist(name) if v.strip()))
        if len(values) > MAX_FILTER_VALUES or any(len(v) > 200 for v in values):
            raise QueryError(f"Too many or too long {name} filters; use at most 20.")
        if name == "year" and not all(v.isascii() and v.isdigit() and len(v) == 4 for v in values):
            raise QueryError("A year filter is a year, like year=2024.")
        if name == "recording" and not set(values) <= {"1", "0"}:
            raise QueryError("The recording filter is recording=1 (has one) or recording=0.")
        chosen[name] = values
    sort = params.get("sort") or "relevance"
    if sort not in SORTS:
        raise QueryError(f"Results can be sorted by {', '.join(SORTS)}.")
    return Filters(**chosen), sort


def _run_search(request: Request) -> tuple[pages.SearchPage, int]:
    state = vod_state(request)
    query = request.query_params.get("q", "")
    page_number = min(_page_number(request), MAX_PAGE)
    try:
        filters, sort = _search_options(request)
    except QueryError as exc:
        return pages.search_page(state.catalog, query, None, error=str(exc)), 400
    if not query.strip() and not filters.active:
        return pages.search_page(state.catalog, "", None, sort=sort), 200
    try:
        results = state.search.search(query, page=page_number, filters=filters, sort=sort)
    except QueryError as exc:
        page = pages.search_page(state.catalog, query, None, str(exc), filters=filters, sort=sort)
        return page, 400
    except IndexNotBuilt:
        log.error("search asked for while no index is built")
        return pages.search_page(
            state.catalog,
            query,
            None,
            error="Search is not available right now: the index is being built. "
            "Please try again in a minute.",
        ), 503
    return pages.search_page(state.catalog, query, results, filters=filters, sort=sort), 200


def search(request: Request) -> Response:
    page, status = _run_search(request)
    return _render(request, "search.html", status=status, page=page)


def healthz(request: Request) -> Response:
    state = vod_state(request)
    try:
        info = state.search.info
        index: dict[str, Any] = {
            "status": "ok",
            "version": info.path.name,
            "documents": info.documents,
            "built_at": info.built_at,
        }
    except IndexNotBuilt as exc:
        index = {"status": "missing", "detail": str(exc)}
    storage = state.recordings.health()
    catalog = state.catalog
    catalog_error = state.live_catalog.error
    healthy = index["status"] == "ok" and storage["status"] == "ok" and not catalog_error
    body = {
        "status": "ok" if healthy else "degraded",
        "catalog": {
            "status": "degraded" if catalog_error else "ok",
            "detail": catalog_error,
            "talks": len(catalog.talks),
            "events": len(catalog.events),
            "digest": catalog.digest,
        },
        "index": index,
        "storage": storage,
    }
    # Degraded storage keeps the site up: the load balancer should keep sending traffic.
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def media(request: Request) -> Response:
    """Serve a local recording with Range support; nothing outside the media folder."""
    storage = vod_state(request).recordings.storage
    if not isinstance(storage, LocalStorage):
        raise HTTPException(404, "recordings are not served from this host")
    path = storage.path_for(request.path_params["key"])
    if path is None:
        raise HTTPException(404, "no such recording")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


# ---- JSON API -----------------------------------------------------------------------------


def _next_url(request: Request, page: int, has_more: bool) -> str | None:
    if not has_more:
        return None
    params = dict(request.query_params)
    params["page"] = str(page + 1)
    return Urls(request).absolute(request.url.path + "?" + urlencode(params))


def api_talks(request: Request) -> Response:
    state = vod_state(request)
    page = _page_number(request)
    event_slug = request.query_params.get("event")
    if event_slug is not None:
        state.catalog.event(event_slug)  # 404 for an unknown event
        talks = state.catalog.event_talks(event_slug)
    else:
        talks = list(state.catalog.talks_newest_first())  # built once, not per request
    size = pages.LIST_PAGE_SIZE
    chunk = talks[(page - 1) * size : page * size]
    urls = Urls(request)
    return JSONResponse(
        {
            "total": len(talks),
            "results": [
                pages.talk_summary_json(pages.talk_card(state.catalog, t), urls) for t in chunk
            ],
            "next": _next_url(request, page, page * size < len(talks)),
        },
        headers={"Cache-Control": PAGE_CACHE},
    )


def api_talk(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := _redirect_old_slug(request, slug, "api_talk")) is not None:
        return moved
    state = vod_state(request)
    page = pages.talk_page(state.catalog, state.recordings, slug)
    return JSONResponse(pages.talk_json(page, Urls(request)), headers={"Cache-Control": TALK_CACHE})


def api_event(request: Request) -> Response:
    state = vod_state(request)
    page = pages.event_page(state.catalog, request.path_params["event"])
    return JSONResponse(
        pages.event_json(page, Urls(request)), headers={"Cache-Control": PAGE_CACHE}
    )


def api_year(request: Request) -> Response:
    state = vod_state(request)
    page = pages.year_page(state.catalog, _year(request))
    return JSONResponse(pages.year_json(page, Urls(request)), headers={"Cache-Control": PAGE_CACHE})


def api_search(request: Request) -> Response:
    page, status = _run_search(request)
    if page.error:
        return JSONResponse({"error": page.error, "query": page.query}, status_code=status)
    results = page.results
    urls = Urls(request)
    if results is None:
        return JSONResponse(
            {"error": "add a query: /api/search?q=words", "query": ""}, status_code=400
        )
    next_url = None
    if results.page < results.pages:
        # Every filter value is kept (a dict of the parameters would keep one per name).
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        params.append(("page", str(results.page + 1)))
        next_url = urls.absolute(request.url.path + "?" + urlencode(params))
    return JSONResponse(
        pages.search_json(page, urls, next_url), headers={"Cache-Control": PAGE_CACHE}
    )


def api_suggest(request: Request) -> Response:
    """Titles and speaker names for what has been typed so far (the search box's script)."""
    state = vod_state(request)
    prefix = request.query_params.get("q", "")[:100]
    try:
        found = state.search.suggest(prefix)
    except IndexNotBuilt:
        found = []
    urls = Urls(request)
    return JSONResponse(
        {"query": prefix, "suggestions": [pages.suggestion_json(s, urls) for s in found]},
        headers={"Cache-Control": PAGE_CACHE},
    )


# ---- errors -------------------------------------------------------------------------------


def _error(request: Request, status: int, message: str, suggestion: str = "") -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    try:
        return _render(
            request,
            "error.html",
            status=status,
            cache=None,
            status_code=status,
            message=message,
            suggestion=suggestion,
        )
    except Exception:  # the error page itself must never fail
        log.exception("error page failed")
        return Response(message, status_code=status, media_type="text/plain")


def not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    words = exc.slug.replace("-", " ")[:100] if isinstance(exc, TalkNotFound) else ""
    return _error(request, 404, f"There is no {exc.kind} at this address.", words)


def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        words = request.url.path.rsplit("/", 1)[-1].replace("-", " ")[:100]
        return _error(request, 404, "There is no page at this address.", words)
    response = _error(request, exc.status_code, str(exc.detail))
    # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
    for name, value in (exc.headers or {}).items():
        response.headers.setdefault(name, value)
    return response


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path, exc_info=exc)
    return _error(request, 500, "Something went wrong on our side. It has been logged.")
