"""Keep the garbage collector's full passes off the request path.

A worker serving the 21,700-talk pyvideo catalog holds about 120,000 long-lived objects (the
catalog, its lookups, the index readers, the templates). Every full collection walks them all:
108 ms measured on this machine, and it happened often enough under load to be the p99 of talk
pages. These objects live as long as the catalog or the index version they belong to, so once
they are built they are moved out of the collector's sight with `gc.freeze()`; collections then
walk only what requests create.

When a new catalog or index version replaces the old one, the old objects must become
collectable again (some of them form reference cycles): `settle` unfreezes, collects once and
freezes what is left. That one pause happens per reload, in a background thread, not per request.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.Lock()


def _load_malloc_trim() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to give back this way
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def _give_back_memory() -> None:
    """Return the heap pages a replaced catalog or index version freed to the system.

    Freed memory otherwise stays in the process: each swap on pyvideo left a worker about 40 MB
    larger (bench_load's soak), close to the 300 MB per worker target.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)


def settle(reason: str, *, replaced: bool = True) -> float:
    """Freeze every live object, so that later collections skip it; return the seconds taken.

    `replaced`: older long-lived objects (a previous catalog or index version) were just let
    go. They may be frozen and in reference cycles, so everything is unfrozen and collected
    once first: a full pass (about 100 ms with the pyvideo catalog). Without it, only the
    young generations are collected (the first catalog or index a process opens).
    """
    with _lock:
        started = time.perf_counter()
        if replaced:
            gc.unfreeze()
            gc.collect()
            _give_back_memory()
        else:
            gc.collect(1)
        gc.freeze()
        took = time.perf_counter() - started
    log.info(
        "heap settled after %s in %.0f ms (%d objects frozen)",
        reason,
        took * 1000,
        gc.get_freeze_count(),
    )
    return took
