"""The list pages and their JSON twins: home, /talks, events and speakers (issue #11).

Each view reads the request, asks vod.browse for the finished page, and renders it or its
twin. Cards come from what was resolved when the catalog and the index loaded (thumbnails,
which talks have recordings): a list page asks the recording store nothing.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vod import browse
from vod.errors import QueryError
from vod.listing import CardFacts
from vod.paging import PageOutOfRange
from vod.web.responses import PAGE_CACHE, page_number, redirect_merged_speaker, render
from vod.web.state import site_urls, vod_state


def _facts(request: Request) -> CardFacts:
    return vod_state(request).card_facts


def _past_the_end(exc: PageOutOfRange) -> HTTPException:
    # A page past the last is not a page: crawlers must not find endless empty ones.
    return HTTPException(404, f"There are only {exc.pages} pages here.")


def _json(body: object) -> Response:
    return JSONResponse(body, headers={"Cache-Control": PAGE_CACHE})


def home(request: Request) -> Response:
    state = vod_state(request)
    return render(request, "home.html", page=browse.home_page(state.catalog, _facts(request)))


def _browse_options(request: Request) -> tuple[browse.BrowseFilters, str]:
    """Read /talks' filters and sort; QueryError for a malformed one."""
    params = request.query_params
    sort = params.get("sort") or "newest"
    if sort not in browse.SORTS:
        raise QueryError(f"Talks can be sorted by {', '.join(browse.SORTS)}.")
    return browse.BrowseFilters.from_query(params), sort


def talks(request: Request) -> Response:
    state = vod_state(request)
    try:
        filters, sort = _browse_options(request)
        page = browse.browse_page(
            state.catalog, _facts(request), filters, sort, page_number(request)
        )
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from None
    except PageOutOfRange as exc:
        raise _past_the_end(exc) from None
    return render(request, "talks.html", page=page)


def api_talks(request: Request) -> Response:
    """The twin of /talks; `event=` of an unknown event is a 404, as it always was."""
    state = vod_state(request)
    for slug in request.query_params.getlist("event"):
        state.catalog.event(slug)
    try:
        filters, sort = _browse_options(request)
    except QueryError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    number = page_number(request)
    facts = _facts(request)
    try:
        page = browse.browse_page(state.catalog, facts, filters, sort, number)
    except PageOutOfRange as exc:
        # /api/talks always answered an empty page past the end: scripts rely on it.
        total = len(browse.filtered_talks(state.catalog, filters, sort, facts.unrecorded))
        return _json(
            {
                "total": total,
                "page": number,
                "pages": exc.pages,
                "next": None,
                "prev": None,
                "results": [],
                "sort": sort,
                "filters": filters.as_json(),
            }
        )
    return _json(browse.browse_json(page, site_urls(request), request.url.path))


def event(request: Request) -> Response:
    page = _event_page(request)
    return render(request, "event.html", page=page)


def api_event(request: Request) -> Response:
    page = _event_page(request)
    return _json(browse.event_json(page, site_urls(request), request.url.path))


def speaker(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := redirect_merged_speaker(request, "speaker", slug)) is not None:
        return moved  # a speaker merged into another keeps their links (issue #14)
    page = _speaker_page(request)
    return render(request, "speaker.html", page=page)


def api_speaker(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := redirect_merged_speaker(request, "api_speaker", slug)) is not None:
        return moved
    page = _speaker_page(request)
    return _json(browse.speaker_page_json(page, site_urls(request), request.url.path))


def _event_page(request: Request) -> browse.EventPage:
    """The event page a request asks for (HTML or JSON twin); 404 past its last page."""
    state = vod_state(request)
    try:
        return browse.event_page(
            state.catalog, request.path_params["event"], _facts(request), page_number(request)
        )
    except PageOutOfRange as exc:
        raise _past_the_end(exc) from None


def _speaker_page(request: Request) -> browse.SpeakerPage:
    """The speaker page a request asks for (HTML or JSON twin); 404 past its last page."""
    state = vod_state(request)
    try:
        return browse.speaker_page(
            state.catalog, request.path_params["slug"], _facts(request), page_number(request)
        )
    except PageOutOfRange as exc:
        raise _past_the_end(exc) from None
