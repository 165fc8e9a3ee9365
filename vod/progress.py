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
