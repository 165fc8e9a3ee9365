"""How index versions are written fast: two writer processes, memory, a fix to a Whoosh hot spot.

Measured on the pyvideo corpus (21,700 talks, BENCHMARKS.md): a default Whoosh writer takes
65-80 s on this 2-core machine. Three things make a full build about three times as fast:

- Two writer processes (`procs=2`), each writing its own segment (`multisegment=True`): the
  analysis runs on both cores and no single-threaded merge follows. The index then has two
  segments; merging them (`optimize`) would take longer than the build itself, and two segments
  search as fast as one (bench/bench_index.py measures both).
- More memory per writer (1 GB) before postings spill to disk and have to be merged back.
- A fix to Whoosh's per-posting file checks (whoosh_fixes.py): a commit three times faster.
"""

from __future__ import annotations

import os
from typing import Any

from vod.index import whoosh_fixes

# A catalog this small is written by one process: starting two costs more than it saves.
PARALLEL_FROM = 2_000
PROCS = 2  # the machine the targets are measured on has two cores
# Memory per writer for sorting postings before they spill to disk and are merged back, which
# is what costs: 256 MB made the parallel pyvideo build take 43 s, 1024 MB 22 s. A server
# process builds with one writer and the smaller limit (it must not balloon while serving).
LIMIT_MB = 256
PARALLEL_LIMIT_MB = 1024


def fast_writer(ix: Any, documents: int, parallel: bool = True) -> Any:
    """Return a writer for `documents` new documents: two processes for a large build."""
    whoosh_fixes.apply()
    procs = min(PROCS, os.cpu_count() or 1)
    if parallel and documents >= PARALLEL_FROM and procs > 1:
        return ix.writer(procs=procs, limitmb=PARALLEL_LIMIT_MB, multisegment=True)
    return ix.writer(limitmb=LIMIT_MB)


def commit(writer: Any) -> None:
    """Commit a writer from `fast_writer`: one segment from one process, as many as processes."""
    from whoosh.multiproc import MpWriter

    # Optimizing would merge the processes' segments, taking longer than the build itself.
    writer.commit(optimize=not isinstance(writer, MpWriter))
