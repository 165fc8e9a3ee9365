"""How index versions are written fast: two writer processes, memory, a fix to a Whoosh hot spot.

Measured on the pyvideo corpus (21,700 talks, BENCHMARKS.md): a default Whoosh writer takes
65-80 s on this 2-core machine. Three things make a full build about three times as fast:

- Two writer processes (`procs=2`), each writing its own segment (`multisegment=True`): the
  analysis runs on both cores and no single-threaded merge follows. The index then has two
  segments; merging them (`optimize`) would take longer than the build itself, and two segments
  search as fast as one (bench/bench_index.py measures both).
- More memory per writer (1 GB) before postings spill to disk and have to be merged back.
- A fix to Whoosh's per-posting file checks (whoosh_fixes.py): a commit three times faster.

A writer process that cannot write (disk full, no permission) exits quietly with the error's
number, and the build fails with that error as one line: Whoosh itself would print the
process's traceback, then commit the index without its documents (issue 10, item 8).
"""

from __future__ import annotations

import errno
import os
from typing import Any

from vod.index import whoosh_fixes
from vod.index.codec import codec

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
        _quiet_subwriters()
        return ix.writer(procs=procs, limitmb=PARALLEL_LIMIT_MB, multisegment=True, codec=codec())
    return ix.writer(limitmb=LIMIT_MB, codec=codec())


def commit(writer: Any) -> None:
    """Commit a writer from `fast_writer`: one segment from one process, as many as processes.

    Raises OSError when a writer process failed to write its segment.
    """
    from whoosh.multiproc import MpWriter

    # Optimizing would merge the processes' segments, taking longer than the build itself.
    writer.commit(optimize=not isinstance(writer, MpWriter))
    for task in getattr(writer, "tasks", []):
        if task.exitcode:
            code = task.exitcode
            text = os.strerror(code) if code in errno.errorcode else f"exit status {code}"
            raise OSError(code, f"an index writer process failed: {text}")


def cancel(writer: Any) -> None:
    """Cancel a writer from `fast_writer`, stopping its processes (Whoosh leaves them waiting)."""
    try:
        writer.cancel()
    except Exception:  # committed already (a writer process failed): nothing left to undo
        pass
    finally:
        for task in getattr(writer, "tasks", []):
            if task.is_alive():
                task.terminate()
            task.join()


_quieted = False


def _quiet_subwriters() -> None:
    """Make a writer process that hits an OSError exit with its number, without a traceback."""
    global _quieted
    if _quieted:
        return
    _quieted = True
    from whoosh.multiproc import SubWriterTask

    original = SubWriterTask.run

    def run(self: Any) -> None:
        try:
            original(self)
        except OSError as exc:
            code = exc.errno if exc.errno and 0 < exc.errno < 256 else 1
            os._exit(code)  # the parent reports it (commit above); no second message

    SubWriterTask.run = run
