"""One build at a time per index folder: an fcntl lock on `<index>/LOCK`.

Two `vod index` runs at once used to both complete, and the last to finish won even with an
older catalog (issue 10, item 8). A build (and a snapshot fetch) holds this lock from before it
looks at the live version until its pointer has moved; a second one waits, saying for whom.
The kernel drops the lock when its holder dies, so a killed build never blocks the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from vod.errors import VodError

log = logging.getLogger(__name__)

LOCK_FILE = "LOCK"


class IndexBusy(VodError):
    """Another process is building into the same index folder."""


@contextlib.contextmanager
def build_lock(
    index_dir: Path, wait: bool = True, waiting: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the index folder's build lock; wait for it, or raise IndexBusy when not `wait`.

    `waiting` is told who holds the lock when this process has to wait for it.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            message = f"another build ({holder}) is writing to {index_dir}"
            if not wait:
                raise IndexBusy(message) from None
            (waiting or log.info)(f"{message}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 100, 0).decode("ascii", "replace").strip()
        if text:
            return text
    return "pid unknown"
