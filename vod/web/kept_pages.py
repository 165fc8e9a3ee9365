"""Rendered pages kept: in each worker's memory, and shared by the workers of one server.

A talk or search page is kept once rendered (gzip-compressed, with its ETag) while nothing it
depends on changes: the views key it on the index version, the catalog, its media and the site's
address (html.py). RenderedPages is one worker's LRU of them.

The workers of one `vod serve` also share their search pages (issue #12), since with two
workers a search asked again lands on either: half the time on the one that has not seen it,
which renders the page again. Replaying the load bench's Zipf draws of 20,000 searches, two
caches of 1,024 pages answer 59% of 15,000 requests; one cache over both workers' pages, 8,192
pages, answers 70%.
Measured under wrk: 974-1,044 Zipf req/s without, 1,712-1,727 with (BENCHMARKS.md).

So `vod serve --workers N` makes a private folder (mode 0700, in /dev/shm where there is one,
removed when it stops) and names it to its workers in SHARED_PAGES_ENV. A worker that renders
a page writes it there too, and a worker that does not have a page in memory looks there
before rendering. The folder is a direct-mapped table of SLOTS files: a page's key (the same
key as in memory: the query, the index version, the catalog, the media, the site address) is
hashed to a file name, and the file starts with the full hash, so a page of another key in
that slot is never served; a new page replaces what was in its slot. Files are written whole
under another name and renamed, so a reader never sees half of one. Nothing in them is code:
a checked header, an ETag, a media type and the gzipped body.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import stat
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from vod.lru import LruCache
from vod.web.middleware import etag, not_modified

log = logging.getLogger(__name__)

MAX_PAGES = 4096  # about 4 kB each once compressed: under 20 MB per worker
# Once per page; every gzip client then gets these bytes. A pyvideo search page (25 kB): level 1
# 105 us and 5.5 kB, level 6 168 us and 5.0 kB. Most kept pages are never asked for again, and a
# page's bytes are small beside its thumbnails: the fast level.
LEVEL = 1


@dataclass(frozen=True, slots=True)
class KeptPage:
    gzipped: bytes
    etag: str
    media_type: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> KeptPage:
        return cls(gzip.compress(body, compresslevel=LEVEL, mtime=0), etag(body), media_type)

    def response(
        self, request: Request, cache_control: str, plain: bytes | None = None
    ) -> Response:
        """Answer `request` from the kept page: 304, gzip, or the plain body.

        `plain` is the page's body when the caller has it (it just rendered the page): a client
        that does not take gzip gets it as it is, and one that does gets the kept bytes, so the
        page is compressed once (the gzip middleware leaves an encoded answer alone).
        """
        headers = {"Cache-Control": cache_control, "ETag": self.etag, "Vary": "Accept-Encoding"}
        if (unchanged := not_modified(request, self.etag, headers)) is not None:
            return unchanged
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        body = plain if plain is not None else gzip.decompress(self.gzipped)
        return Response(body, media_type=self.media_type, headers=headers)


class RenderedPages(LruCache[KeptPage]):
    """A thread-safe LRU of rendered pages; with `shared`, backed by the pages every worker of
    the server kept (SharedPages, below)."""

    def __init__(self, size: int = MAX_PAGES, shared: SharedPages | None = None) -> None:
        super().__init__(size)
        self.shared = shared

    def get(self, key: Hashable) -> KeptPage | None:
        """The page kept under `key` here, else by another worker (then kept here too)."""
        found = super().get(key)
        if found is None and self.shared is not None:
            found = self.shared.get(key)
            if found is not None:
                self.put(key, found)
        return found

    def keep(
        self, key: Hashable, response: Response, cache_control: str, request: Request
    ) -> Response:
        """Keep the bytes of a rendered answer under `key`, and answer `request` from them."""
        body = bytes(response.body)
        kept = KeptPage.of(body, response.media_type or "text/html")
        self.put(key, kept)
        if self.shared is not None:
            self.shared.put(key, kept)
        return kept.response(request, cache_control, plain=body)


# ---- shared by the workers of one server ----------------------------------------------------

SHARED_PAGES_ENV = "VOD_SHARED_PAGES"  # set by vod serve for its workers only
SLOTS = 8192  # files; a pyvideo search page is ~5.5 kB gzipped: under 50 MB in all
MAGIC = b"vod-kept-page 1\n"
_DIGEST = 16


class SharedPages:
    """Kept pages in a folder every worker of one server reads and writes."""

    def __init__(self, folder: Path, slots: int = SLOTS) -> None:
        self.folder = folder
        self.slots = slots
        self._warned = False

    @classmethod
    def from_env(cls) -> SharedPages | None:
        """The folder vod serve made for its workers, or None (one worker, tests, or a folder
        someone else could write to: its pages would be served as ours)."""
        raw = os.environ.get(SHARED_PAGES_ENV)
        if not raw:
            return None
        folder = Path(raw)
        try:
            info = folder.lstat()
        except OSError:
            return None
        if (
            not stat.S_ISDIR(info.st_mode)
            or info.st_uid != os.getuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            log.warning("not sharing rendered pages through %s: not a private folder", folder)
            return None
        return cls(folder)

    def _place(self, key: Hashable) -> tuple[bytes, Path]:
        # repr() of the key (strings, numbers and tuples of them) is the same in every worker.
        digest = hashlib.blake2b(
            repr(key).encode("utf-8", "surrogatepass"), digest_size=_DIGEST
        ).digest()
        slot = int.from_bytes(digest[:4], "big") % self.slots
        return digest, self.folder / f"{slot:05d}"

    def get(self, key: Hashable) -> KeptPage | None:
        """The page kept under `key` by any worker, or None."""
        digest, path = self._place(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        start = len(MAGIC) + _DIGEST
        if not data.startswith(MAGIC) or data[len(MAGIC) : start] != digest:
            return None  # empty slot, or another page's
        try:
            etag, media_type, gzipped = data[start:].split(b"\n", 2)
            return KeptPage(gzipped, etag.decode("ascii"), media_type.decode("ascii"))
        except ValueError:
            return None

    def put(self, key: Hashable, page: KeptPage) -> None:
        """Keep `page` under `key` for every worker; a page that cannot be written is not."""
        digest, path = self._place(key)
        try:
            etag, media_type = page.etag.encode("ascii"), page.media_type.encode("ascii")
        except UnicodeEncodeError:
            return
        if b"\n" in etag or b"\n" in media_type:
            return  # it could not be read back
        head = etag + b"\n" + media_type + b"\n"
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            temporary.write_bytes(MAGIC + digest + head + page.gzipped)
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            if not self._warned:  # a full disk: say it once, keep serving from memory
                self._warned = True
                log.warning("cannot share a rendered page through %s: %s", self.folder, exc)
