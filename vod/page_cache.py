"""Rendered talk pages, kept per process while nothing they depend on changes.

A talk page is a pure function of the catalog, the index version (transcripts), what the
player plays and the request's moment and host; rendering it is most of its cost (Jinja2).
Only pages whose playback URL does not expire are kept: local recordings and the placeholder,
not S3's presigned URLs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

MAX_PAGES = 512  # about 15 kB each: under 10 MB per worker


class RenderedPages:
    """A small thread-safe LRU of rendered page bodies."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
                self.hits += 1
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
