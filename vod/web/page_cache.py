"""Rendered talk pages, kept per process while nothing they depend on changes.

A talk page is a pure function of the catalog, the index version (transcripts), what the
player plays and the request's moment and host; rendering it is most of its cost (Jinja2).
Only pages whose playback URL does not expire are kept: local recordings, the placeholder, and
S3 recordings behind VOD_MEDIA_URL; not S3's presigned URLs.

Pages are kept gzip-compressed (about a quarter of their size), with their ETag: a browser,
which accepts gzip, gets the kept bytes as they are; a conditional request gets 304 without
touching the body; a client without gzip gets them decompressed (about 20 µs).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from vod.lru import LruCache
from vod.web.http_cache import body_etag, etag_matches

MAX_PAGES = 4096  # about 4 kB each once compressed: under 20 MB per worker
LEVEL = 6  # ~90 µs once per page; every gzip client then gets these bytes


@dataclass(frozen=True, slots=True)
class KeptPage:
    gzipped: bytes
    etag: str
    media_type: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> KeptPage:
        return cls(gzip.compress(body, compresslevel=LEVEL, mtime=0), body_etag(body), media_type)

    def response(self, request: Request, cache_control: str) -> Response:
        """Answer `request` from the kept page: 304, gzip, or the plain body."""
        headers = {"Cache-Control": cache_control, "ETag": self.etag, "Vary": "Accept-Encoding"}
        if_none_match = request.headers.get("if-none-match")
        if if_none_match and etag_matches(if_none_match, self.etag):
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        return Response(gzip.decompress(self.gzipped), media_type=self.media_type, headers=headers)


class RenderedPages(LruCache[KeptPage]):
    """A thread-safe LRU of rendered pages."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        super().__init__(size)
