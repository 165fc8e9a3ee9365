"""What every family of views shares: templates rendered, cache lifetimes, page numbers,
old-slug redirects and error answers (an HTML page, or JSON under /api/)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from vod.config import TALK_PAGE_MAX_AGE
from vod.errors import NotFound, TalkNotFound, YearNotFound
from vod.urls import SiteUrls
from vod.web.state import vod_state

log = logging.getLogger(__name__)

# Pages change only when the catalog does; a CDN may keep them briefly.
PAGE_CACHE = "public, max-age=60"
# Talk pages carry presigned URLs that expire, so they are cached for less time.
# VOD_PRESIGN_EXPIRY is never shorter than this (vod/config.py).
TALK_CACHE = f"public, max-age={TALK_PAGE_MAX_AGE}"


def render(
    request: Request,
    template: str,
    status: int = 200,
    cache: str | None = PAGE_CACHE,
    **context: Any,
) -> Response:
    """Render `template` with `context`; a 200 answer may be cached for `cache`."""
    response = vod_state(request).templates.TemplateResponse(
        request, template, context, status_code=status
    )
    if cache and status == 200:
        response.headers["Cache-Control"] = cache
    return response


def page_number(request: Request) -> int:
    """Return the `?page=` of a list (1 when absent); 400 unless it is 1 to 10000."""
    raw = request.query_params.get("page", "1")
    # ASCII digits only: str.isdigit() accepts "²", which int() then refuses (a 500).
    digits = raw.lstrip("0") if raw.isascii() and raw.isdigit() else ""
    if not digits or len(digits) > 5 or not 1 <= int(digits) <= 10_000:
        raise HTTPException(400, "page must be a whole number from 1 to 10000")
    return int(digits)


def year_number(request: Request) -> int:
    """Return the `{year}` of the path; YearNotFound unless it is four digits."""
    raw = request.path_params["year"]
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise YearNotFound(raw[:20])
    return int(raw)


def redirect_old_slug(request: Request, route: str, slug: str, **params: str) -> Response | None:
    """Return a permanent redirect when `slug` is a talk's old slug, else None."""
    current = vod_state(request).catalog.redirect_for(slug)
    if current is None:
        return None
    target = SiteUrls().path(route, slug=current, **params)
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(target, status_code=301)


def redirect_merged_speaker(request: Request, route: str, slug: str) -> Response | None:
    """Return a permanent redirect when `slug` is a speaker merged into another, else None."""
    current = vod_state(request).catalog.speaker_redirect_for(slug)
    if current is None:
        return None
    target = SiteUrls().path(route, slug=current)
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(target, status_code=301)


# ---- errors -------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str, suggestion: str = "") -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    try:
        return render(
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
