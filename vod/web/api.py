"""The JSON API under /api/: each answer is the JSON twin of a page (vod.pages)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vod import pages
from vod.errors import IndexNotBuilt
from vod.listing import CardFacts
from vod.web.responses import (
    PAGE_CACHE,
    TALK_CACHE,
    page_number,
    redirect_old_slug,
    year_number,
)
from vod.web.state import site_urls, vod_state


def api_talk(request: Request) -> Response:
    slug = request.path_params["slug"]
    if (moved := redirect_old_slug(request, "api_talk", slug)) is not None:
        return moved
    state = vod_state(request)
    talk = state.catalog.talk(slug)
    urls = site_urls(request)
    playback = state.recordings.playback(talk)
    page = pages.talk_page(
        state.catalog,
        state.recordings,
        state.search,
        urls,
        talk,
        playback,
        facts=state.card_facts,
    )
    return JSONResponse(pages.talk_json(page, urls), headers={"Cache-Control": TALK_CACHE})


def api_year(request: Request) -> Response:
    state = vod_state(request)
    page = pages.year_page(state.catalog, year_number(request))
    return JSONResponse(
        pages.year_json(page, site_urls(request)), headers={"Cache-Control": PAGE_CACHE}
    )


def api_search(request: Request) -> Response:
    state = vod_state(request)
    number = page_number(request)
    # The JSON twin shows no thumbnails or badges: its cards need the catalog alone.
    facts = CardFacts.plain(state.catalog)
    page, status = pages.run_search(
        state.catalog, state.search, request.query_params, number, facts
    )
    if page.error:
        return JSONResponse({"error": page.error, "query": page.query}, status_code=status)
    results = page.results
    urls = site_urls(request)
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
    prefix = pages.clean_query(request.query_params.get("q", ""))[:100]
    try:
        found = state.search.suggest(prefix)
    except IndexNotBuilt:
        found = []
    urls = site_urls(request)
    return JSONResponse(
        {"query": prefix, "suggestions": [pages.suggestion_json(s, urls) for s in found]},
        headers={"Cache-Control": PAGE_CACHE},
    )
