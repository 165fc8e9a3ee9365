"""Three fixes to Whoosh (whoosh-reloaded 2.7.5) that matter with 21,700 talks.

- Lengths: for every posting it writes or merges, Whoosh asks the file system whether the
  segment has a length column for fields that have none (ID and KEYWORD fields); it caches only
  the columns it finds. A build of the pyvideo corpus made over a million `stat` calls, and its
  commit took three times longer. A segment never gains a column, so "none" is cached too.
- Buffers: Whoosh reads a segment's parts from a memory map, then wraps each part in
  `io.BytesIO`, which copies it: opening the pyvideo index copied 61 MB into every worker. A
  read-only file over the mapped memory reads the same bytes without the copy, so workers share
  the pages through the page cache instead.
- Pickles: each block of postings starts with a small pickled tuple, which Whoosh loads with
  `pickle.load` from a part of the segment's compound file (a SubFile). Without a `peek`, the
  unpickler reads such a file a few bytes at a time: two dozen reads, each through three Python
  layers, for every block a search opens (a sixth of finding a search's matches on pyvideo).
  With one, it reads the pickle at once and then moves past it (`SubFile.peek`, below).

All are applied once per process by `apply()`; none changes a byte Whoosh writes or reads.
They replace private members of whoosh-reloaded, so pyproject.toml pins the release they were
written for (WHOOSH_VERSION); tests/test_index_whoosh_fixes.py fails, saying what to check, if
the installed release is another or those members changed.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from typing import Any

from whoosh.codec import whoosh3
from whoosh.filedb import compound, structfile

WHOOSH_VERSION = "2.7.5"  # the whoosh-reloaded release whose internals apply() patches
_applied = False


class ViewFile:
    """A read-only file over a buffer (a memoryview of a memory map), without copying it."""

    def __init__(self, buf: Any) -> None:
        self._view = memoryview(buf)
        self._pos = 0
        self.closed = False

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        self._pos = max(end, start)
        return self._view[start : self._pos].tobytes()

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = len(self._view) if size is None or size < 0 else self._pos + size
        end = self._pos
        while end < min(limit, len(self._view)):  # rare: pickles of protocol 0 only
            chunk = self._view[end : min(end + 256, limit)].tobytes()
            newline = chunk.find(b"\n")
            if newline >= 0:
                end += newline + 1
                break
            end += len(chunk)
        return self.read(end - self._pos)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def write(self, data: Any) -> int:
        raise io.UnsupportedOperation("a read-only view")

    def truncate(self, size: int | None = None) -> int:
        raise io.UnsupportedOperation("a read-only view")


def apply() -> None:
    """Apply both fixes to this process's Whoosh (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True

    original_reader = whoosh3.W3PerDocReader._cached_reader

    @functools.wraps(original_reader)  # keeps the original as __wrapped__
    def cached_reader(self: Any, fieldname: str, column: Any) -> Any:
        readers = self._readers
        if fieldname in readers:
            return readers[fieldname]
        reader = original_reader(self, fieldname, column)
        if reader is None:
            readers[fieldname] = None  # no column, and there never will be one
        return reader

    whoosh3.W3PerDocReader._cached_reader = cached_reader

    original_init = structfile.BufferFile.__init__

    @functools.wraps(original_init)
    def buffer_init(self: Any, buf: Any, name: Any = None, onclose: Any = None) -> None:
        original_init(self, b"", name=name, onclose=onclose)
        self._buf = buf
        self.file = ViewFile(buf)

    structfile.BufferFile.__init__ = buffer_init

    compound.SubFile.peek = _peek


PEEK_BYTES = 512  # a block's info tuple is ~40 bytes; a longer pickle is read on as before


def _peek(self: Any, size: int = 0) -> bytes:
    """Up to `size` bytes from the current position (at most PEEK_BYTES), not moving past them."""
    size = min(max(size, 1), PEEK_BYTES, self._length - self._pos)
    if size <= 0:
        return b""
    self._file.seek(self._offset + self._pos)
    data: bytes = self._file.read(size)
    return data
