"""Progress of long commands: a bar on a terminal, plain log lines everywhere else."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

log = logging.getLogger("vod")

LOG_STEPS = 10  # without a terminal: one log line per tenth of the work


@contextmanager
def progress(label: str, total: int, unit: str = "items") -> Iterator[Callable[[int], Any]]:
    """Yield a function to call with each amount of work done, out of `total`.

    On a terminal this draws a click progress bar on stderr; otherwise (logs, CI, pipes) it logs
    one line per tenth, so a long import or index build still shows it is alive.
    """
    if sys.stderr.isatty() and total > 0:
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield bar.update
        return
    done = 0
    step = max(total // LOG_STEPS, 1)
    next_log = step
    log.info("%s: %d %s", label, total, unit)

    def update(amount: int) -> None:
        nonlocal done, next_log
        done += amount
        if total > 0 and done >= next_log and done < total:
            log.info("%s: %d%% (%d of %d %s)", label, round(100 * done / total), done, total, unit)
            next_log = (done // step + 1) * step

    yield update
    log.info("%s: done", label)


BAR_WIDTH = 24
REDRAW_EVERY = 0.1  # seconds between redraws of the bars on a terminal
FILE_LOG_STEPS = 4  # without a terminal: a log line per quarter of each file


def _bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


class FileBars:
    """Progress of work on many files at once: a bar per file being worked on, and overall.

    Thread-safe: each worker reports its own file. On a terminal the bars are redrawn in place
    on stderr (at most ten times a second); elsewhere each file logs a line per quarter.
    """

    def __init__(self, label: str, total: int, *, tty: bool | None = None) -> None:
        import threading

        self.label = label
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._active: dict[str, float] = {}
        self._logged: dict[str, int] = {}
        self._lock = threading.Lock()
        self._drawn = 0
        self._last_draw = 0.0

    def start(self, name: str) -> None:
        """Show a bar for `name`."""
        with self._lock:
            self._active[name] = 0.0
            self._logged[name] = 0
        if not self.tty:
            log.info("%s: started", name)
        self._draw(force=True)

    def update(self, name: str, fraction: float) -> None:
        """Move `name`'s bar to `fraction` (0 to 1)."""
        with self._lock:
            if name not in self._active:
                return
            self._active[name] = fraction
            step = int(fraction * FILE_LOG_STEPS)
            announce = not self.tty and 0 < step < FILE_LOG_STEPS and step > self._logged[name]
            if announce:
                self._logged[name] = step
        if announce:
            log.info("%s: %d%%", name, round(100 * fraction))
        self._draw()

    def finish(self, name: str, outcome: str) -> None:
        """Remove `name`'s bar and count it done; `outcome` says how it ended."""
        with self._lock:
            self._active.pop(name, None)
            self._logged.pop(name, None)
            self.done += 1
            done = self.done
        if not self.tty:
            log.info("%s: %s (%d of %d)", name, outcome, done, self.total)
        else:
            self._print_above(f"{name}: {outcome}")
        self._draw(force=True)

    def _lines(self) -> list[str]:
        overall = self.done / self.total if self.total else 1.0
        lines = [f"{self.label} {_bar(overall)} {self.done}/{self.total}"]
        lines += [
            f"  {name[-40:]:<40} {_bar(f)} {round(100 * f):3d}%" for name, f in self._active.items()
        ]
        return lines

    def _clear(self) -> None:
        if self._drawn:
            sys.stderr.write(f"\x1b[{self._drawn}F\x1b[J")
        self._drawn = 0

    def _print_above(self, text: str) -> None:
        with self._lock:
            self._clear()
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def _draw(self, force: bool = False) -> None:
        if not self.tty:
            return
        import time

        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_draw < REDRAW_EVERY:
                return
            self._last_draw = now
            self._clear()
            lines = self._lines()
            sys.stderr.write("\n".join(lines) + "\n")
            sys.stderr.flush()
            self._drawn = len(lines)

    def close(self) -> None:
        """Leave the overall bar on screen and stop drawing."""
        self._draw(force=True)
        if not self.tty:
            log.info("%s: done", self.label)
