"""Build the Starlette application from explicit Settings: routes, lifespan, errors, templates."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from vod import __version__, browse, heap
from vod.catalog import Catalog, Speaker, catalog_cache_dir, load_catalog_cached
from vod.config import Settings, catalog_identity
from vod.errors import IndexNotBuilt, NotFound
from vod.index import SearchIndex, update_at_startup
from vod.listing import thumbnails_for
from vod.media.live import MediaFollower
from vod.providers import frame_sources
from vod.snapshots import is_snapshot_host
from vod.storage import Recordings, storage_from_settings
from vod.timecode import format_clock
from vod.urls import SiteUrls
from vod.web import responses
from vod.web.cards import hit_html, people_html
from vod.web.fragments import CardFragments, facet_choices
from vod.web.middleware import ConditionalGet, SecurityHeaders, TrustedHost, security_headers
from vod.web.routes import routes
from vod.web.state import AppState, LiveCatalog, site_urls

log = logging.getLogger(__name__)


def make_templates(settings: Settings) -> Jinja2Templates:
    """Create the Jinja2 environment; autoescape every template, whatever its extension."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(settings.templates_dir),
        autoescape=True,  # feeds and .txt included, not only .html (Starlette's default)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code and change only with a restart; checking every
        # template file's mtime on each render cost 14 stat calls, a quarter of a talk page.
        auto_reload=False,
    )
    env.filters["clock"] = format_clock
    env.filters["no_bidi"] = _no_bidi
    env.globals["vod_version"] = __version__
    # Links stay relative, so any host or CDN serves them; absolute_url is for previews.
    env.globals["path_for"] = SiteUrls().path
    env.globals["absolute_url"] = _absolute_url
    cards = CardFragments()
    env.globals["talk_card"] = cards  # cards rendered once, kept (issue #11)
    env.globals["search_hit"] = lambda hit: Markup(hit_html(hit, cards))
    env.globals["people"] = _people
    env.globals["facet_choices"] = facet_choices
    return Jinja2Templates(env=env)


# Directional formatting characters: a right-to-left override in a query echoed into the
# document title (which cannot hold <bdi>) would reverse the rest of the title.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def _people(people: Sequence[Speaker]) -> Markup:
    """Speakers as links with their companies (the talk page's lists; cards.py writes them)."""
    return Markup(people_html(people))


def _no_bidi(text: str) -> str:
    return str(text).translate(_BIDI_CONTROLS)


@jinja2.pass_context
def _absolute_url(context: Any, path: str) -> str:
    """Return `path` as a full URL, on VOD_BASE_URL when it is set."""
    return site_urls(context["request"]).absolute(path)


def prepare_index(settings: Settings, catalog: Catalog) -> None:
    """Bring the index up to date with the catalog (incremental), unless snapshots feed it."""
    if is_snapshot_host(settings):
        return  # only a verified snapshot moves this index (vod/snapshots.py)
    # The store lets the build index captions and know which recordings exist (issue #3).
    update_at_startup(
        catalog, settings.index_dir, settings.catalog, storage_from_settings(settings)
    )


def search_index(settings: Settings) -> SearchIndex:
    """Open the index for searching: only versions of this server's catalog (issue 10, #1)."""
    own = None if is_snapshot_host(settings) else catalog_identity(settings.catalog)
    return SearchIndex(settings.index_dir, own)


def create_app(settings: Settings, *, catalog: Catalog | None = None) -> Starlette:
    """Build the vod web application for `settings`."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        cache_dir = catalog_cache_dir(settings.index_dir)
        loaded = (
            catalog if catalog is not None else load_catalog_cached(settings.catalog, cache_dir)
        )
        prepare_index(settings, loaded)
        storage = storage_from_settings(settings)
        # Posters, durations and downloads that `vod media` made (issue #14): read once here,
        # then followed in the background, never per request.
        media = MediaFollower(storage)
        media.load()
        state = AppState(
            settings=settings,
            # A catalog handed in by the caller (tests, tools) is served as it is.
            live_catalog=LiveCatalog(
                settings.catalog,
                loaded,
                reloadable=catalog is None,
                cache_dir=cache_dir,
                media=media,
            ),
            search=search_index(settings),
            recordings=Recordings(storage),
            templates=make_templates(settings),
        )
        warm(state)
        # The catalog and its lookups live as long as the process: out of the collector's way.
        heap.settle("start-up", replaced=False)
        yield {"vod": state}

    return Starlette(
        routes=routes(settings),
        lifespan=lifespan,
        middleware=[
            # First: nothing below may see (or build a URL from) an untrusted Host header.
            Middleware(
                TrustedHost, base_url=settings.base_url, allowed_hosts=settings.allowed_hosts
            ),
            Middleware(SecurityHeaders),
            Middleware(GZipMiddleware, minimum_size=1024),
            Middleware(ConditionalGet),
        ],
        exception_handlers={
            NotFound: responses.not_found,
            HTTPException: responses.http_error,
            # Starlette sends 500 responses from outside every middleware: add the headers here.
            Exception: _server_error,
        },
    )


def warm(state: AppState) -> None:
    """Do before the first request what every page needs, with 21,700 talks: the catalog's
    per-event, per-speaker and per-year lookups, the embed origins of its CSP, and the open
    index (talk pages read transcripts from it; opening it takes about 0.3 s)."""
    live = state.live_catalog
    storage = state.recordings.storage

    def prepare(catalog: Catalog) -> None:
        catalog.warm()
        frame_sources(catalog)
        thumbnails_for(catalog, storage)  # the cards' table (issue #11), lazy
        browse.warm(catalog)  # the sort orders of /talks

    prepare(live.current)
    live.prepare = prepare  # and each catalog a reload brings, before it serves
    try:
        state.search.info  # noqa: B018 - opens the live version
    except IndexNotBuilt:
        log.warning("no index yet: searches will say so until `vod index` has run")


def create_app_from_env() -> Starlette:
    """Build the app from VOD_* variables (the factory `vod serve` hands to uvicorn)."""
    # Workers are fresh processes: uvicorn configures its own loggers there, not vod's, whose
    # notes (index swaps, catalog reloads) would otherwise be lost below WARNING.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    heap.refreeze_after_full_passes()  # what requests keep stays out of full passes (heap.py)
    return create_app(Settings.from_env())


def _server_error(request: Request, exc: Exception) -> Response:
    response = responses.server_error(request, exc)
    for name, value in security_headers(str(request.scope.get("path", ""))):
        response.headers.setdefault(name, value)
    return response
