"""A small thread-safe least-recently-used map, for answers that stay right while their inputs
do not change (rendered talk pages, search results of one index version)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    """Keep values up to `size`; the least recently used goes first.

    `size` counts values, or with `weigh` the sum of their weights (postings of a decoded
    posting list, say); then the most recent value is kept whatever its weight.
    """

    def __init__(self, size: int, weigh: Callable[[V], int] | None = None) -> None:
        self.size = size
        self._weigh = weigh
        self.weight = 0  # the values' total weight (their number without `weigh`)
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[Hashable, threading.Event] = {}  # values being made, by key
        self.hits = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: Hashable, value: V) -> None:
        weigh = self._weigh or _one
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.weight -= weigh(old)
            self._items[key] = value
            self.weight += weigh(value)
            while self.weight > self.size and len(self._items) > (1 if self._weigh else 0):
                _, dropped = self._items.popitem(last=False)
                self.weight -= weigh(dropped)

    def get_or_make(
        self,
        key: Hashable,
        make: Callable[[], V],
        keep: Callable[[V], bool] = lambda value: True,
        wait: float = 5.0,
    ) -> tuple[V, bool]:
        """Return the value of `key` and whether it was kept, making it when it was not.

        Callers asking for a key that another thread is making wait for it (up to `wait`
        seconds) instead of making it too; if that fails, they make it themselves at once.
        A value is kept only when `keep(value)`.
        """
        if (value := self.get(key)) is not None:
            return value, True
        with self._lock:
            making = self._making.get(key)
            leading = making is None
            if making is None:
                making = self._making[key] = threading.Event()
        if not leading:
            making.wait(wait)
            if (value := self.get(key)) is not None:
                return value, True
        try:
            value = make()
            if keep(value):
                self.put(key, value)
            return value, False
        finally:
            if leading:
                with self._lock:
                    del self._making[key]
                making.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _one(value: object) -> int:
    return 1
