"""The media manifest a serving worker follows: read when the catalog loads, then re-read now
and then in the background, so pages get new posters and durations without a restart and
without asking the store per request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vod.errors import StorageUnavailable
from vod.media.keys import MANIFEST_KEY
from vod.media.manifest import MANIFEST_LIMIT, MediaManifest, with_media

if TYPE_CHECKING:
    from vod.catalog import Catalog
    from vod.storage import Storage

log = logging.getLogger(__name__)

# How often a worker reads the manifest again (one small read; `vod media` may run meanwhile).
MEDIA_CHECK_EVERY = 30.0


class MediaFollower:
    """The newest media manifest of a store, and the catalog with it merged in."""

    def __init__(self, storage: Storage, every: float = MEDIA_CHECK_EVERY) -> None:
        self.storage = storage
        self.every = every
        self.manifest = MediaManifest()
        self.error: str | None = None
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._loading = False

    def load(self) -> bool:
        """Read the manifest now; tell whether it changed. Never raises: the site stays up."""
        try:
            text = self.storage.read_text(MANIFEST_KEY, MANIFEST_LIMIT)
        except (StorageUnavailable, ValueError) as exc:
            self.error = f"cannot read the media manifest: {exc}"
            log.warning("%s", self.error)
            return False
        self.error = None
        manifest = MediaManifest.from_json(text) if text else MediaManifest()
        if manifest.digest == self.manifest.digest:
            return False
        self.manifest = manifest
        return True

    def apply(self, catalog: Catalog) -> Catalog:
        """Return `catalog` with the current manifest merged in."""
        return with_media(catalog, self.manifest)

    def refresh_in_background(self, on_change: Callable[[], None]) -> None:
        """Every `every` seconds, re-read the manifest in a thread; `on_change` when it changed."""
        now = time.monotonic()
        if now - self._checked < self.every:
            return
        with self._lock:
            if self._loading or now - self._checked < self.every:
                return
            self._checked = now
            self._loading = True

        def work() -> None:
            try:
                if self.load():
                    on_change()
            finally:
                with self._lock:
                    self._loading = False

        threading.Thread(target=work, daemon=True, name="vod-media-manifest").start()
