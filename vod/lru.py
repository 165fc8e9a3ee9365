"""A small thread-safe least-recently-used map, for answers that stay right while their inputs
do not change (rendered talk pages, search results of one index version)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    """Keep at most `size` values; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
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
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

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

    def __len__(self) -> int:
        return len(self._items)
