"""Rendered talk pages, kept per process while nothing they depend on changes.

A talk page is a pure function of the catalog, the index version (transcripts), what the
player plays and the request's moment and host; rendering it is most of its cost (Jinja2).
Only pages whose playback URL does not expire are kept: local recordings and the placeholder,
not S3's presigned URLs.
"""

from __future__ import annotations

from vod.lru import LruCache

MAX_PAGES = 512  # about 15 kB each: under 10 MB per worker


class RenderedPages(LruCache[bytes]):
    """A thread-safe LRU of rendered page bodies."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        super().__init__(size)
