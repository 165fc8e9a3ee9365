"""Sizes and checksums of a version's files, recorded when it is built and checked when opened.

A segment file truncated or overwritten under a running server used to kill its workers with
SIGBUS (Whoosh read it through a memory map), and an incremental build hard-links the files it
keeps, so one damaged file is shared by every version built from it (issue 10, item 8). Each
version's meta.json lists every file with its size and sha256: a process checks them all
before it opens a version, its sizes once a second while it serves it, and everything again
when a search fails. A damaged version is never opened; its neighbours are checked on their own.

The same module makes a build durable: every file and the folder are fsynced before the
CURRENT pointer moves, so a crash never leaves a pointer to a version whose data is lost.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

# meta.json is written after the list (it holds it); Whoosh's lock file is empty and unused.
UNLISTED = frozenset({"meta.json", "MAIN_WRITELOCK"})
BLOCK = 1 << 20


class DamagedIndex(Exception):
    """An index version's files do not match what was recorded when it was built."""


def sha256_file(path: Path) -> str:
    """Return the sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def record_files(
    folder: Path, known: dict[str, tuple[int, list[Any]]] | None = None
) -> dict[str, list[Any]]:
    """Return {name: [size, sha256]} for the files of a version being built in `folder`.

    `known` maps a file's name to (inode, entry) for files hard-linked from a version whose
    checksums were just verified: the same inode needs no second read.
    """
    known = known or {}
    files: dict[str, list[Any]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name in UNLISTED or path.name.startswith("."):
            continue
        stat = path.stat()
        inode, entry = known.get(path.name, (None, None))
        if entry is not None and inode == stat.st_ino and entry[0] == stat.st_size:
            files[path.name] = list(entry)
        else:
            files[path.name] = [stat.st_size, sha256_file(path)]
    return files


def check_files(folder: Path, files: dict[str, Any] | None, checksums: bool = True) -> None:
    """Raise DamagedIndex when a listed file is missing, resized or (with `checksums`) changed.

    A version without a list (built before lists were kept) passes: it has nothing to check.
    """
    if not files:
        return
    for name, (size, sha) in files.items():
        path = folder / name
        try:
            found = path.stat().st_size
        except OSError as exc:
            raise DamagedIndex(f"{path}: {exc.strerror or exc}") from None
        if found != size:
            raise DamagedIndex(f"{path}: {found} bytes, {size} when it was built")
        if checksums:
            try:
                same = sha256_file(path) == sha
            except OSError as exc:
                raise DamagedIndex(f"{path}: {exc.strerror or exc}") from None
            if not same:
                raise DamagedIndex(f"{path}: its bytes changed since it was built")


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's data and metadata to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file under `folder`, then each folder, to disk."""
    for root, dirs, names in os.walk(folder):
        for name in names:
            fsync_path(Path(root) / name)
        for name in dirs:
            fsync_path(Path(root) / name)
    fsync_path(folder)
