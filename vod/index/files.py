"""How a serving process reads an index version's files: positional reads, no memory map.

Whoosh maps segment files into memory by default. A mapped file truncated under a running
server (a full disk, an operator's mistake, a damaged copy) kills the process with SIGBUS the
next time a search touches the lost pages, and no Python code can catch that (issue 10, item 8).
Read with `os.pread` instead, a short file gives short reads, which Whoosh turns into an
exception that the search survives (searcher.py then checks the version's files).

Positional reads also need no shared file position, and a small read-ahead block keeps
Whoosh's many small reads (headers, varints) from costing a system call each.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

READ_AHEAD = 16 * 1024  # bytes read at once for a small read (a posting block is ~1-8 kB)


class PreadFile:
    """A read-only file read with os.pread: thread-safe, no memory map, no ResourceWarning."""

    def __init__(self, path: Path) -> None:
        self._fd: int | None = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._pos = 0
        self._block = b""
        self._block_at = 0
        self.closed = False

    def _pread(self, size: int, at: int) -> bytes:
        if self._fd is None:
            raise ValueError("read from a closed index file")
        if size <= READ_AHEAD:
            end = self._block_at + len(self._block)
            if not (self._block_at <= at and at + size <= end):
                self._block = os.pread(self._fd, READ_AHEAD, at)
                self._block_at = at
            start = at - self._block_at
            return self._block[start : start + size]
        return os.pread(self._fd, size, at)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            assert self._fd is not None
            size = max(0, os.fstat(self._fd).st_size - self._pos)
        data = self._pread(size, self._pos)
        self._pos += len(data)
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        line = b""
        while size is None or size < 0 or len(line) < size:
            chunk = self._pread(READ_AHEAD, self._pos + len(line))
            if not chunk:
                break
            newline = chunk.find(b"\n")
            line += chunk if newline < 0 else chunk[: newline + 1]
            if newline >= 0:
                break
        if size is not None and size >= 0:
            line = line[:size]
        self._pos += len(line)
        return line

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 2:
            assert self._fd is not None
            offset += os.fstat(self._fd).st_size
        elif whence == 1:
            offset += self._pos
        self._pos = max(0, offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        self.closed = True

    def __del__(self) -> None:
        # An index left to the collector (a test's, a tool's) closes its files quietly.
        self.close()


class ReadOnlyStorage(FileStorage):  # type: ignore[misc]  # Whoosh has no type hints
    """A Whoosh FileStorage that reads files with PreadFile and never maps them."""

    supports_mmap = False

    def __init__(self, path: Path) -> None:
        super().__init__(str(path), supports_mmap=False, readonly=True)

    def open_file(self, name: str, **kwargs: Any) -> Any:
        return StructFile(PreadFile(Path(self.folder) / name), name=name, **kwargs)


def open_version_index(path: Path) -> Any:
    """Open the Whoosh index of a version for reading, without memory maps."""
    return ReadOnlyStorage(path).open_index()
