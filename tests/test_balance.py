"""The workers of one `vod serve` even out their keep-alive connections (vod/web/balance.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vod.web import balance
from vod.web.balance import COUNT, LOOK_EVERY, PREFIX, ConnectionShare
from vod.web.kept_pages import SHARED_PAGES_ENV


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _workers(
    folder: Path, pids: list[int], clock: Clock, alive: set[int] | None = None
) -> list[ConnectionShare]:
    living = set(pids) if alive is None else alive
    return [ConnectionShare(folder, pid=p, alive=living.__contains__, clock=clock) for p in pids]


def _open(share: ConnectionShare, connections: int) -> None:
    for _ in range(connections):
        share.opened()


def _asked(share: ConnectionShare, requests: int) -> int:
    return sum(share.over_share() for _ in range(requests))


def test_a_worker_above_its_share_asks_only_its_excess_to_reconnect(tmp_path: Path) -> None:
    clock = Clock()
    busy, quiet = _workers(tmp_path, [101, 102], clock)
    _open(busy, 20)
    _open(quiet, 12)
    # Share: 32 over 2 workers is 16. The busy worker asks 4 connections, and no more, however
    # many requests come; the quiet one asks none.
    assert _asked(busy, 50) == 4
    assert _asked(quiet, 50) == 0
    assert busy.counted == 16 and busy.held == 20
    # The other workers still count the four leaving: their clients will reconnect somewhere.
    assert COUNT.unpack((tmp_path / f"{PREFIX}101").read_bytes())[0] == 20
    # The four close; their clients reconnect, and the kernel sends, say, three back to it.
    for _ in range(4):
        busy.closed(told=True)
    _open(busy, 3)
    _open(quiet, 1)
    assert (busy.counted, quiet.counted) == (19, 13)
    assert _asked(busy, 50) == 3  # and so on, until the split is even
    assert _asked(quiet, 50) == 0


def test_an_even_split_or_one_client_alone_is_never_asked_to_reconnect(tmp_path: Path) -> None:
    clock = Clock()
    first, second, third = _workers(tmp_path, [201, 202, 203], clock)
    _open(first, 1)
    assert _asked(first, 10) == 0  # one client alone, on a server of three workers
    _open(first, 10)
    _open(second, 11)
    _open(third, 10)  # 32 over three: a share is 11 (rounded up)
    assert [_asked(w, 10) for w in (first, second, third)] == [0, 0, 0]
    _open(third, 2)  # 34: a share is 12; the third holds 12
    assert [_asked(w, 10) for w in (first, second, third)] == [0, 0, 0]
    _open(third, 1)  # 35: a share is still 12; the third holds 13
    assert [_asked(w, 10) for w in (first, second, third)] == [0, 0, 1]


def test_a_worker_alone_never_asks(tmp_path: Path) -> None:
    (only,) = _workers(tmp_path, [301], Clock())
    _open(only, 40)
    assert _asked(only, 10) == 0


def test_a_worker_that_started_later_is_weighed_once_the_folder_is_listed_again(
    tmp_path: Path,
) -> None:
    clock = Clock()
    (first,) = _workers(tmp_path, [401], clock, alive={401, 402})
    _open(first, 8)
    assert _asked(first, 1) == 0  # alone
    _workers(tmp_path, [402], clock, alive={401, 402})  # a second worker starts
    assert _asked(first, 1) == 0  # not listed yet: the folder is read once a second at most
    clock.now += LOOK_EVERY
    assert _asked(first, 10) == 4


def test_a_dead_workers_file_is_ignored_and_removed(tmp_path: Path) -> None:
    clock = Clock()
    living, dead = _workers(tmp_path, [501, 502], clock, alive={501})
    _open(dead, 0)
    COUNT.pack_into(dead._mine, 0, 0)  # it died holding no connection
    _open(living, 6)
    assert _asked(living, 10) == 0  # not three each: the dead worker holds nothing
    assert not (tmp_path / f"{PREFIX}502").exists()
    # A worker that has gone away and removed its own file is dropped at the next listing.
    (third,) = _workers(tmp_path, [503], clock, alive={501, 503})
    living._alive = {501, 503}.__contains__
    clock.now += LOOK_EVERY
    assert _asked(living, 1) == 1  # weighed against the third: 6 against 0, share 3
    third.close()
    clock.now += LOOK_EVERY
    assert _asked(living, 10) == 0  # alone again
    assert 503 not in living._others


def test_odd_files_in_the_folder_change_nothing(tmp_path: Path) -> None:
    clock = Clock()
    (worker,) = _workers(tmp_path, [601], clock, alive={601, 602, 603, 604})
    (tmp_path / f"{PREFIX}602").write_bytes(b"\x00" * 3)  # not a count
    (tmp_path / f"{PREFIX}603").write_bytes(COUNT.pack(-(10**6)))  # a negative count
    (tmp_path / f"{PREFIX}abc").write_bytes(COUNT.pack(0))  # not a pid
    (tmp_path / f"{PREFIX}604").mkdir()  # not a file
    (tmp_path / "connections.604.tmp").write_bytes(b"")
    _open(worker, 4)
    # The negative count adds nothing: 4 connections over two workers, a share of 2.
    assert _asked(worker, 10) == 2
    big = ConnectionShare(tmp_path, pid=605, alive=lambda pid: True, clock=clock)
    COUNT.pack_into(big._mine, 0, 2**62)  # a huge count only raises the share
    worker._alive = lambda pid: True
    clock.now += LOOK_EVERY
    assert _asked(worker, 10) == 0


def test_a_connection_counts_once_however_it_ends(tmp_path: Path) -> None:
    clock = Clock()
    first, _ = _workers(tmp_path, [701, 702], clock)
    _open(first, 3)
    assert _asked(first, 5) == 1  # 3 against 0: a share of 2
    assert COUNT.unpack((tmp_path / f"{PREFIX}701").read_bytes())[0] == 3
    first.closed(told=True)
    first.closed(told=False)
    first.closed(told=False)
    assert (first.held, first.closing, first.counted) == (0, 0, 0)
    assert COUNT.unpack((tmp_path / f"{PREFIX}701").read_bytes())[0] == 0


def test_start_needs_the_private_folder_vod_serve_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(balance, "_share", None)
    monkeypatch.delenv(SHARED_PAGES_ENV, raising=False)
    assert balance.start() is None  # one worker: nothing to balance
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # others could write there: their counts could make us shed
    monkeypatch.setenv(SHARED_PAGES_ENV, str(shared))
    assert balance.start() is None
    shared.chmod(0o700)
    share = balance.start()
    try:
        assert share is not None and balance.current() is share
        assert balance.start() is share
        path = shared / balance.FOLDER / f"{PREFIX}{os.getpid()}"
        assert COUNT.unpack(path.read_bytes())[0] == 0
        assert (shared / balance.FOLDER).stat().st_mode & 0o777 == 0o700
    finally:
        balance.stop()
    assert balance.current() is None
    assert not path.exists()
