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

What requests leave behind grows too: the kept results, parsed words, decoded postings, cards
and pages of a busy search worker. Each full pass walked all of them again (8,000 pyvideo
searches: 14 full passes, up to 133 ms each, 3% of the CPU). A served worker therefore freezes
what survives each full pass (`Refreezer`), so the next one walks only what came after: up to
26 ms, 229 ms in all. A kept object that later becomes garbage is freed by its reference count
as before; one in a reference cycle waits for the next full walk of everything, which the
refreezer lets happen every FULL_WALK_EVERY seconds (and every settle does).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.Lock()
FULL_WALK_EVERY = 600.0  # seconds: how long garbage in a cycle among frozen objects may wait


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


class Refreezer:
    """A garbage-collector callback: after each full pass, freeze what survived it.

    Every `every` seconds it unfreezes instead, so the next full pass walks everything and
    frees cycles among objects frozen since (a settle counts as such a walk).
    """

    def __init__(self, every: float = FULL_WALK_EVERY, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self.clock = clock
        self.last_walk = clock()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != 2:
            return
        now = self.clock()
        if now - self.last_walk >= self.every:
            gc.unfreeze()  # the next full pass walks everything
            self.last_walk = now
        else:
            gc.freeze()

    def walked(self) -> None:
        """Note a full walk of everything (settle did one)."""
        self.last_walk = self.clock()


_refreezer: Refreezer | None = None


def refreeze_after_full_passes() -> Refreezer:
    """Install the process's Refreezer (once); a served worker calls this at start-up."""
    global _refreezer
    with _lock:
        if _refreezer is None:
            _refreezer = Refreezer()
            gc.callbacks.append(_refreezer)
        return _refreezer


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
            if _refreezer is not None:
                _refreezer.walked()
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
