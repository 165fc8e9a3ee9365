"""What every request can reach: the app state the lifespan sets up."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vod import heap
from vod.errors import CatalogError, IndexNotBuilt
from vod.listing import CardFacts, card_facts
from vod.urls import SiteUrls
from vod.web.kept_pages import RenderedPages, SharedPages

SEARCH_PAGES_KEPT = 1024  # rendered search pages per worker: ~8 MB

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.templating import Jinja2Templates

    from vod.catalog import Catalog
    from vod.config import Settings
    from vod.index import SearchIndex
    from vod.media.live import MediaFollower
    from vod.storage import Recordings

log = logging.getLogger(__name__)

# How often a worker compares its catalog with the one the live index was built from.
CATALOG_CHECK_EVERY = 1.0


def _warm_lookups(catalog: Catalog) -> None:
    catalog.warm()


class LiveCatalog:
    """The catalog a worker serves, reloaded when the live index was built from another one.

    A new index version is the unit of publication: when `vod index` (or an admin reindex)
    switches the index, every worker notices within a second and reloads the catalog files in
    the background. A catalog that fails validation never replaces the good one in memory; the
    problem is logged and shown by /healthz.
    """

    def __init__(
        self,
        path: Path,
        catalog: Catalog,
        *,
        reloadable: bool = True,
        cache_dir: Path | None = None,
        media: MediaFollower | None = None,
    ) -> None:
        self.path = path
        self.cache_dir = cache_dir  # the validated-catalog cache (a large catalog: issue #5)
        # The media manifest (issue #14) is merged into the catalog files' catalog (`base`).
        self.media = media
        self.base = catalog
        self.current = media.apply(catalog) if media is not None else catalog
        self.reloadable = reloadable
        # What the pages need made ahead for a catalog (web/app.py's warm): run on every catalog
        # that replaces this one, before it serves, so no request after a reload pays for it.
        self.prepare: Callable[[Catalog], None] = _warm_lookups
        self.error: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._loading = False

    def follow(self, index_digest: str | None) -> Catalog:
        """Return the catalog, starting a reload when the index was built from another one."""
        if self.media is not None:
            self.media.refresh_in_background(self._media_changed)
        now = time.monotonic()
        if (
            not self.reloadable
            or index_digest is None
            or index_digest == self.current.digest
            or now - self._checked < CATALOG_CHECK_EVERY
        ):
            return self.current
        with self._lock:
            self._checked = now
            if self._loading:
                return self.current
            self._loading = True
        threading.Thread(target=self._reload, args=(index_digest,), daemon=True).start()
        return self.current

    def _media_changed(self) -> None:
        assert self.media is not None
        fresh = self.media.apply(self.base)
        self.prepare(fresh)
        log.info("media manifest reloaded: %s", self.media.manifest.digest or "none")
        self.current = fresh

    def _reload(self, wanted: str) -> None:
        from vod.catalog import load_catalog_cached

        try:
            fresh = load_catalog_cached(self.path, self.cache_dir)
            self.prepare(fresh)  # its lookups, here in the background rather than in a request
        except CatalogError as exc:
            self.error = f"catalog reload failed; still serving {self.current.digest}: {exc}"
            log.error("%s", self.error)
        except Exception as exc:  # unreadable files, anything: keep serving the good catalog
            self.error = f"catalog reload failed; still serving {self.current.digest}: {exc!r}"
            log.exception("catalog reload failed")
        else:
            if fresh.digest != self.current.digest:
                log.info("catalog reloaded: %s -> %s", self.current.digest, fresh.digest)
                self.base = fresh
                if self.media is not None:
                    fresh = self.media.apply(fresh)
                    self.prepare(fresh)
                self.current = fresh
                heap.settle("a catalog reload")  # let the old catalog go, freeze the new one
            self.error = (
                None
                if fresh.digest == wanted
                else (
                    f"catalog files ({fresh.digest}) differ from the live index ({wanted}); "
                    "run `vod index`"
                )
            )
        finally:
            with self._lock:
                self._loading = False


@dataclass
class AppState:
    """The loaded catalog, the live index, the recording store and the templates."""

    settings: Settings
    live_catalog: LiveCatalog
    search: SearchIndex
    recordings: Recordings
    templates: Jinja2Templates
    jobs: dict[str, Any] = field(default_factory=dict)  # admin jobs (reindex) and their state
    rendered: RenderedPages = field(default_factory=RenderedPages)  # talk pages, see html.talk
    # Search pages, see html.search: fewer, as they are larger (~6 kB compressed).
    # Search pages, backed by the pages every worker of `vod serve` kept (kept_pages.py).
    searched: RenderedPages = field(
        default_factory=lambda: RenderedPages(SEARCH_PAGES_KEPT, SharedPages.from_env())
    )

    @property
    def catalog(self) -> Catalog:
        try:
            digest: str | None = self.search.info.digest
        except IndexNotBuilt:
            digest = None
        return self.live_catalog.follow(digest)

    @property
    def card_facts(self) -> CardFacts:
        """What the cards of the live catalog show beyond it (thumbnails, missing recordings)."""
        return card_facts(self.catalog, self.search, self.recordings.storage)


def vod_state(request: Request) -> AppState:
    """Return the app state of a request (set up by the lifespan)."""
    state: AppState = request.state.vod
    return state


def site_base(request: Request) -> str:
    """The address a request's pages link to: VOD_BASE_URL when it is set, else its host."""
    return vod_state(request).settings.base_url or str(request.base_url)


def site_urls(request: Request) -> SiteUrls:
    """Return the URL builder of a request (on site_base)."""
    return SiteUrls(site_base(request))
