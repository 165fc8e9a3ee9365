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


@pytest.fixture
def refreezer() -> Iterator[tuple[heap.Refreezer, list[float]]]:
    now = [0.0]
    watcher = heap.Refreezer(every=600.0, clock=lambda: now[0])
    gc.callbacks.append(watcher)
    try:
        yield watcher, now
    finally:
        gc.callbacks.remove(watcher)


def test_what_survives_a_full_pass_is_frozen_for_the_next(
    refreezer: tuple[heap.Refreezer, list[float]],
) -> None:
    kept = [Node() for _ in range(1000)]  # a search worker's caches, say
    gc.collect(1)
    assert gc.get_freeze_count() == 0  # a young collection leaves them to the collector
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)  # the next full pass will not walk them


def test_a_cycle_frozen_that_way_is_freed_after_the_next_walk_of_everything(
    refreezer: tuple[heap.Refreezer, list[float]],
) -> None:
    _, now = refreezer
    version = cycle()
    old = weakref.ref(version)
    gc.collect()  # frozen after this pass
    del version
    now[0] = 100.0
    gc.collect()
    assert old() is not None  # frozen: not walked...
    now[0] = 700.0  # ...until FULL_WALK_EVERY has passed: this pass unfreezes
    gc.collect()
    assert gc.get_freeze_count() == 0
    gc.collect()  # the walk of everything
    assert old() is None


def test_a_served_worker_installs_one_refreezer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_refreezer", None)
    before = list(gc.callbacks)
    try:
        first = heap.refreeze_after_full_passes()
        assert heap.refreeze_after_full_passes() is first
        assert [c for c in gc.callbacks if c not in before] == [first]
    finally:
        gc.callbacks[:] = before
