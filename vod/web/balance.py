"""Keep-alive connections spread evenly over the workers of one `vod serve --workers N`.

Each worker listens on its own SO_REUSEPORT socket (workers.py), and the kernel picks the worker
of a new connection by a hash of its addresses. The hash is fair on average, not over a few
dozen connections: five starts of wrk's 32 connections split 18/14, 16/16, 17/15, 20/12 and
16/16. A keep-alive connection stays on its worker for as long as it lives, so at 20/12 one
worker queues 20 clients' requests on its core while the other serves 12, and those 20 wait
two thirds longer. The p99 of the distinct-search load run (bench/bench_search_load.py) moved
between 90 and 101 ms with the split alone.

So the workers tell each other how many connections they hold. Each writes its count into a
file of its own in the workers' private shared folder (8 bytes, mapped into memory, so a change
is one memory write) and reads the others' files the same way. When a request arrives on a
worker that holds more than its share (all the workers' connections divided evenly, rounded
up), its response says `Connection: close`: the client gets its answer as usual and opens a
new connection, which the kernel hashes again. Only a worker above its share asks, and only
for as many connections as it holds above it, so the split settles within a few requests per
connection. One client alone, or an even split, is never asked to reconnect.
"""

from __future__ import annotations

import contextlib
import logging
import math
import mmap
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

COUNT = struct.Struct("=q")  # a worker's connections, in its own byte order: one machine
PREFIX = "connections."  # + the worker's pid
LOOK_EVERY = 1.0  # seconds between listings of the folder (a worker started, or gone)
FOLDER = "connections"  # inside the workers' shared folder (kept_pages.SHARED_PAGES_ENV)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone's process: not a worker of ours, but not ours to judge
    return True


def _mapped(path: Path) -> mmap.mmap | None:
    """The count file at `path`, mapped for reading; None when it is not one."""
    try:
        with path.open("rb") as file:
            if os.fstat(file.fileno()).st_size != COUNT.size:
                return None
            return mmap.mmap(file.fileno(), COUNT.size, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


class ConnectionShare:
    """One worker's open connections, published to the other workers and weighed against
    theirs."""

    def __init__(
        self,
        folder: Path,
        *,
        pid: int | None = None,
        alive: Callable[[int], bool] = _alive,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.pid = os.getpid() if pid is None else pid
        self._alive = alive
        self._clock = clock
        self.held = 0  # connections open on this worker
        self.closing = 0  # of those, told to close after their response
        self._others: dict[int, mmap.mmap] = {}
        self._looked = -math.inf
        self._mine = self._publish_file()

    def _publish_file(self) -> mmap.mmap:
        path = self.folder / f"{PREFIX}{self.pid}"
        temporary = self.folder / f".{PREFIX}{self.pid}"
        temporary.write_bytes(COUNT.pack(0))
        os.replace(temporary, path)  # never seen half written
        with path.open("r+b") as file:
            return mmap.mmap(file.fileno(), COUNT.size)

    @property
    def counted(self) -> int:
        """The connections this worker keeps: open, and not told to close. (Its file says
        `held`, all it has open.)"""
        return self.held - self.closing

    def opened(self) -> None:
        """A connection was accepted."""
        self.held += 1
        COUNT.pack_into(self._mine, 0, self.held)

    def closed(self, *, told: bool) -> None:
        """A connection is gone; `told` when it was one asked to close."""
        self.held -= 1
        if told:
            self.closing -= 1
        COUNT.pack_into(self._mine, 0, self.held)

    def over_share(self) -> bool:
        """Tell whether a request that just arrived should be its connection's last, because
        this worker holds more than its share; if so, count that connection as leaving."""
        mine = self.counted
        if mine <= 1:
            return False  # a share is never below one connection
        self._look()
        if not self._others:
            return False
        # Connections told to close still count in every worker's total, theirs and ours:
        # their clients reconnect at once, to some worker. Left out, the share would shrink
        # with each one told, and a worker would go on telling more than it holds above it.
        total = self.held
        for mapped in self._others.values():
            # A count is this machine's own workers' writing; still, nothing odd may make a
            # worker shed: a negative count adds nothing, a huge one only raises the share.
            total += max(0, COUNT.unpack_from(mapped)[0])
        share = -(-total // (len(self._others) + 1))
        if mine <= share:
            return False
        self.closing += 1
        return True

    def _look(self) -> None:
        """List the folder now and then: the other workers, as they start and stop."""
        now = self._clock()
        if now - self._looked < LOOK_EVERY:
            return
        self._looked = now
        found: dict[int, Path] = {}
        try:
            names = os.listdir(self.folder)
        except OSError:
            names = []
        for name in names:
            if name.startswith(PREFIX) and name[len(PREFIX) :].isdigit():
                pid = int(name[len(PREFIX) :])
                if pid != self.pid:
                    found[pid] = self.folder / name
        for pid in [pid for pid in self._others if pid not in found]:
            self._others.pop(pid).close()
        for pid, path in found.items():
            if not self._alive(pid):  # a worker that died without removing its file
                self._forget(pid)
                with contextlib.suppress(OSError):
                    path.unlink()
            elif pid not in self._others and (mapped := _mapped(path)) is not None:
                self._others[pid] = mapped

    def _forget(self, pid: int) -> None:
        mapped = self._others.pop(pid, None)
        if mapped is not None:
            mapped.close()

    def close(self) -> None:
        """Stop publishing: remove this worker's file."""
        for pid in list(self._others):
            self._forget(pid)
        with contextlib.suppress(OSError):
            (self.folder / f"{PREFIX}{self.pid}").unlink()
        self._mine.close()


_share: ConnectionShare | None = None


def start() -> ConnectionShare | None:
    """Start this worker's share when `vod serve` gave its workers a shared folder (several
    workers); None otherwise, or when the folder is not private or cannot be written."""
    global _share
    if _share is not None:
        return _share
    from vod.web.kept_pages import SharedPages

    shared = SharedPages.from_env()  # only a private folder of ours
    if shared is None:
        return None
    folder = shared.folder / FOLDER
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        _share = ConnectionShare(folder)
    except OSError as exc:
        log.warning("connections not balanced over the workers: %s", exc)
        return None
    return _share


def current() -> ConnectionShare | None:
    """This worker's share, once started."""
    return _share


def stop() -> None:
    """Remove this worker's file (at exit)."""
    global _share
    if _share is not None:
        _share.close()
        _share = None
