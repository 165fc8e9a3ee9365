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

Keeping a page is not free: it is compressed (level 1) and written to the folder, a tenth of a
distinct search's CPU under wrk (issue #12). A browser takes gzip, so its page is compressed
anyway and kept at once. A page rendered for a client that takes no gzip (an API client, a
crawler, a load generator) is kept at its key's first sight only while keys tend to come back
(FirstSight counts, in a table of key tags shared through the same folder, how many of the keys
seen lately were asked again); otherwise when its key is asked again.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import mmap
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
        if takes_gzip(request):
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
        seen = shared.first_sight() if shared is not None else None
        self.first_sight = seen if seen is not None else FirstSight()

    def look(self, key: Hashable) -> tuple[KeptPage | None, bool]:
        """The page kept under `key` (as `get`), and whether `key` was asked for lately: a
        view passes that on to `keep`."""
        asked_before = self.first_sight.sighted(key)
        return self.get(key), asked_before

    def get(self, key: Hashable) -> KeptPage | None:
        """The page kept under `key` here, else by another worker (then kept here too)."""
        found = super().get(key)
        if found is None and self.shared is not None:
            found = self.shared.get(key)
            if found is not None:
                self.put(key, found)
        return found

    def keep(
        self,
        key: Hashable,
        response: Response,
        cache_control: str,
        request: Request,
        *,
        asked_before: bool = True,
    ) -> Response:
        """Keep the bytes of a rendered answer under `key`, and answer `request` from them.

        A page rendered for a client that takes no gzip, at the first sight of its key
        (`asked_before` False, from `look`), is not kept while few keys come back lately
        (FirstSight): nobody needs its compressed bytes, and compressing and writing every
        distinct search was a tenth of its CPU under wrk (issue #12).
        """
        body = bytes(response.body)
        media_type = response.media_type or "text/html"
        if not (asked_before or takes_gzip(request) or self.first_sight.returns_often()):
            return _answer(request, cache_control, etag(body), media_type, body)
        kept = KeptPage.of(body, media_type)
        self.put(key, kept)
        if self.shared is not None:
            self.shared.put(key, kept)
        return kept.response(request, cache_control, plain=body)


def takes_gzip(request: Request) -> bool:
    """Tell whether a request accepts gzip (as the kept pages and Starlette's middleware ask)."""
    return "gzip" in request.headers.get("accept-encoding", "")


def _answer(
    request: Request, cache_control: str, tag: str, media_type: str, body: bytes
) -> Response:
    """A 304 or the plain `body`, with the headers a kept page is answered with."""
    headers = {"Cache-Control": cache_control, "ETag": tag, "Vary": "Accept-Encoding"}
    if (unchanged := not_modified(request, tag, headers)) is not None:
        return unchanged
    return Response(body, media_type=media_type, headers=headers)


SEEN_SLOTS = 65_536  # keys asked for lately, 8 bytes each: 512 kB
# Whether a page asked for by a client without gzip is worth keeping at its first sight: it is
# when at least this share of the keys seen lately came back. Keeping costs a compression and a
# write (0.3 ms of CPU a distinct search under wrk), and a page rendered again a search (3 ms).
RETURN_SHARE = 0.1
# First sights after which the counts are halved, so the recent ones weigh most: after a burst
# of searches asked again and again, a worker stops keeping distinct ones within about 200
# requests (replaying the load bench's warm-up then its distinct searches; 2,048 took 1,700).
SIGHTS_WEIGHED = 128
SIGHTS_NEEDED = 64  # fewer first sights than this say nothing yet: keep, as before


class FirstSight:
    """The keys asked for lately, as an 8-byte tag per key in a direct-mapped table (a key's
    slot holds its tag until another key's replaces it), and how many of them came back.

    The table is in memory, or in a file the workers of one server share
    (SharedPages.first_sight), so a search asked once on each worker counts as asked again.
    The lowest bit of a tag says that its key came back. Nothing read there is trusted beyond
    "asked before": a wrong tag only keeps or skips a page.
    """

    def __init__(self, table: bytearray | mmap.mmap | None = None, slots: int = SEEN_SLOTS):
        self.slots = slots
        self._table = table if table is not None else bytearray(8 * slots)
        self.first_sights = 0  # in this worker, lately
        self.returns = 0  # keys that came back (counted once each), lately

    def sighted(self, key: Hashable) -> bool:
        """Tell whether `key` was asked for lately, and remember that it is asked now."""
        digest = key_digest(key)
        slot = int.from_bytes(digest[:4], "big") % self.slots * 8
        tag = digest[8:15]
        held = self._table[slot : slot + 8]
        if held[:7] == tag:
            if not held[7] & 1:  # its first return
                self._table[slot + 7] = held[7] | 1
                # Never more than the first sights counted: a burst of searches asked again
                # and again would otherwise outweigh many windows of distinct ones.
                self.returns = min(self.returns + 1, max(self.first_sights, 1))
            return True
        self._table[slot : slot + 8] = tag + bytes([digest[15] & 0xFE])
        self.first_sights += 1
        if self.first_sights >= SIGHTS_WEIGHED:
            self.first_sights //= 2
            self.returns //= 2
        return False

    def returns_often(self) -> bool:
        """Tell whether keys seen for the first time lately tend to be asked for again."""
        return self.first_sights < SIGHTS_NEEDED or self.returns >= RETURN_SHARE * (
            self.first_sights
        )


# A page rendered asks for its key's digest three times (FirstSight, the shared folder's get,
# then its put): the last few are remembered, so repr() and blake2b run once a request.
@functools.lru_cache(maxsize=64)
def key_digest(key: Hashable) -> bytes:
    """A page key's digest, the same in every worker: repr() of the key (strings, numbers and
    tuples of them) does not depend on the process, as hash() does."""
    return hashlib.blake2b(repr(key).encode("utf-8", "surrogatepass"), digest_size=_DIGEST).digest()


# ---- shared by the workers of one server ----------------------------------------------------

SHARED_PAGES_ENV = "VOD_SHARED_PAGES"  # set by vod serve for its workers only
SEEN_FILE = "seen"  # FirstSight's table, beside the pages' slot files
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

    def first_sight(self) -> FirstSight | None:
        """The keys every worker saw lately, in the file SEEN_FILE of the folder (None if it
        cannot be made: each worker then remembers its own)."""
        path = self.folder / SEEN_FILE
        size = 8 * SEEN_SLOTS
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                if os.fstat(descriptor).st_size != size:
                    os.ftruncate(descriptor, size)  # zeros: nothing seen
                return FirstSight(mmap.mmap(descriptor, size))
            finally:
                os.close(descriptor)
        except (OSError, ValueError) as exc:
            log.warning("pages seen are not shared through %s: %s", self.folder, exc)
            return None

    def _place(self, key: Hashable) -> tuple[bytes, Path]:
        digest = key_digest(key)
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
