"""The clock a search's time budget runs on: the searching thread's own CPU time.

A search stops reading matches when its budget is spent (searcher.SEARCH_BUDGET) and says its
results may be incomplete. The budget bounds the query's own work. Wall-clock time would also
count what the query does not control: other threads holding the GIL, other processes on the
same cores, and the one full garbage collection a worker runs after an index swap
(vod/heap.py, about 100 ms on pyvideo). Any of these made searches in flight come back empty
and "partial" under load; CPU time of the thread counts none of them.
"""

from __future__ import annotations

import time


def now() -> float:
    """Seconds of CPU time the calling thread has used (compare only within one thread)."""
    return time.thread_time()
