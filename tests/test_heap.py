"""Long-lived objects are kept out of garbage-collector passes, and let go when replaced."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from vod import heap
from vod.config import Settings
from vod.web.app import create_app


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def cycle() -> Node:
    a, b = Node(), Node()
    a.other, b.other = b, a  # once dropped, only the cycle collector can free these
    return a


def test_settle_freezes_what_lives() -> None:
    kept = [Node() for _ in range(1000)]
    heap.settle("a test", replaced=False)
    assert gc.get_freeze_count() >= len(kept)
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)  # a full pass leaves them where they are


def test_replaced_objects_in_cycles_are_freed_by_the_next_settle() -> None:
    version = cycle()
    old = weakref.ref(version)
    heap.settle("the first version", replaced=False)
    del version  # replaced by a new version
    gc.collect()
    assert old() is not None  # frozen: a plain collection cannot free the old cycle...
    heap.settle("a new version")
    assert old() is None  # ...the settle after a replacement does


def test_a_worker_freezes_its_catalog_at_start_up(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/").status_code == 200
        assert gc.get_freeze_count() > 0
