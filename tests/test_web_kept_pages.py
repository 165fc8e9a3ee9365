"""Search pages rendered by one worker of `vod serve` are answered by the others (issue #12)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from vod import cli
from vod.config import Settings
from vod.web.app import create_app
from vod.web.kept_pages import (
    RETURN_SHARE,
    SEEN_FILE,
    SEEN_SLOTS,
    SHARED_PAGES_ENV,
    SIGHTS_WEIGHED,
    FirstSight,
    KeptPage,
    RenderedPages,
    SharedPages,
    key_digest,
)

PAGE = KeptPage(b"\x1f\x8b gzipped bytes\nwith a line break", 'W/"abc"', "text/html")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "pages"
    made.mkdir(mode=0o700)
    return made


def test_a_page_one_worker_kept_is_read_by_another(folder: Path) -> None:
    first, second = SharedPages(folder), SharedPages(folder)
    key = ("index-v1", "catalog", "http://x", (("q", "storage"),))
    first.put(key, PAGE)
    assert second.get(key) == PAGE
    assert second.get((*key[:3], (("q", "storage!"),))) is None  # another search
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_slot_holds_the_last_page_and_never_serves_it_for_another_key(folder: Path) -> None:
    shared = SharedPages(folder, slots=1)
    shared.put("a", PAGE)
    other = KeptPage(b"other", 'W/"b"', "text/html")
    shared.put("b", other)
    assert shared.get("b") == other and shared.get("a") is None
    assert len(list(folder.iterdir())) == 1


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"vod-kept-page 1\n" + b"\x00" * 16 + b"no line breaks"],
)
def test_a_broken_or_foreign_file_is_not_served(folder: Path, content: bytes) -> None:
    shared = SharedPages(folder, slots=1)
    shared.put("a", PAGE)
    (path,) = folder.iterdir()
    path.write_bytes(content)
    assert shared.get("a") is None


def test_a_page_that_cannot_be_written_is_only_kept_in_memory(folder: Path) -> None:
    shared = SharedPages(folder / "gone")
    shared.put("a", PAGE)  # no error: the worker goes on serving
    assert shared.get("a") is None
    shared.put("b", KeptPage(b"x", 'W/"a\nb"', "text/html"))  # a header it could not read back
    assert shared.get("b") is None


def test_only_a_private_folder_is_shared(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SHARED_PAGES_ENV, raising=False)
    assert SharedPages.from_env() is None  # one worker, or a test's app
    monkeypatch.setenv(SHARED_PAGES_ENV, str(folder))
    found = SharedPages.from_env()
    assert found is not None and found.folder == folder
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)  # anyone could plant a page there
    monkeypatch.setenv(SHARED_PAGES_ENV, str(open_to_all))
    assert SharedPages.from_env() is None
    monkeypatch.setenv(SHARED_PAGES_ENV, str(tmp_path / "missing"))
    assert SharedPages.from_env() is None


def test_rendered_pages_look_in_the_shared_folder_then_keep_the_page(folder: Path) -> None:
    worker_a = RenderedPages(4, SharedPages(folder))
    worker_b = RenderedPages(4, SharedPages(folder))
    worker_a.put("k", PAGE)  # kept in a's memory only
    assert worker_b.get("k") is None
    assert worker_a.shared is not None
    worker_a.shared.put("k", PAGE)  # as keep() does
    assert worker_b.get("k") == PAGE
    for path in folder.iterdir():
        path.unlink()
    assert worker_b.get("k") == PAGE  # now in b's memory too


@pytest.fixture
def two_workers(
    folder: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps sharing `folder`, as two workers of one `vod serve`."""
    monkeypatch.setenv(SHARED_PAGES_ENV, str(folder))
    settings = make_settings()
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as other:
        yield one, other


def test_a_search_one_worker_rendered_is_answered_by_the_other(
    two_workers: tuple[TestClient, TestClient], searches: list[str]
) -> None:
    one, other = two_workers
    first = one.get("/search?q=arctic")
    assert first.status_code == 200 and searches == ["arctic"]
    second = other.get("/search?q=arctic")
    assert searches == ["arctic"]  # not searched again
    assert second.text == first.text and second.headers["etag"] == first.headers["etag"]
    assert "frame-ancestors 'none'" in second.headers["content-security-policy"]
    other.get("/search?q=snowflake")
    assert searches == ["arctic", "snowflake"]


def test_serve_with_workers_gives_them_a_private_folder_and_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int]] = []

    def run(config: Any) -> None:
        path = os.environ[SHARED_PAGES_ENV]
        seen.append((path, os.stat(path).st_mode & 0o777))

    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: pytest.fail("one worker"))
    monkeypatch.setattr("vod.web.workers.run", run)
    args = ["serve", "--workers", "2", "--port", "8123", "--index-dir", str(tmp_path / "i")]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    ((path, mode),) = seen
    assert mode == 0o700
    assert not Path(path).exists() and SHARED_PAGES_ENV not in os.environ


def test_one_worker_shares_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []
    monkeypatch.setattr(
        "uvicorn.run", lambda *a, **kw: seen.append(os.environ.get(SHARED_PAGES_ENV))
    )
    result = CliRunner().invoke(cli.main, ["serve", "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    assert seen == [None]


def test_first_sight_remembers_keys_until_another_takes_their_slot() -> None:
    seen = FirstSight()
    key = ("index-v1", "catalog", "http://x", (("q", "storage"),))
    assert not seen.sighted(key)
    assert seen.sighted(key) and seen.sighted(key)
    assert not seen.sighted((*key[:3], (("q", "storage!"),)))  # another search
    assert (seen.first_sights, seen.returns) == (2, 1)  # a key comes back once
    one_slot = FirstSight(slots=1)
    assert not one_slot.sighted("a") and one_slot.sighted("a")
    assert not one_slot.sighted("b")  # b's tag replaces a's
    assert not one_slot.sighted("a")


def _keys_in_their_own_slots(count: int, slots: int = SEEN_SLOTS) -> list[tuple[str, int]]:
    """`count` keys no two of which share a slot of FirstSight's table."""
    keys: list[tuple[str, int]] = []
    taken: set[int] = set()
    n = 0
    while len(keys) < count:
        slot = int.from_bytes(key_digest(("distinct", n))[:4], "big") % slots
        if slot not in taken:
            taken.add(slot)
            keys.append(("distinct", n))
        n += 1
    return keys


def test_keys_that_rarely_come_back_make_first_sights_not_worth_keeping() -> None:
    seen = FirstSight()
    keys = _keys_in_their_own_slots(SIGHTS_WEIGHED - 1)
    assert seen.returns_often()  # nothing known yet: keep, as a cache always did
    for key in keys:
        seen.sighted(key)
    assert seen.first_sights == len(keys)
    assert not seen.returns_often()  # none came back
    needed = math.ceil(RETURN_SHARE * len(keys))
    for key in keys[: needed - 1]:
        seen.sighted(key)
    assert not seen.returns_often()  # under a tenth came back
    seen.sighted(keys[needed - 1])
    assert seen.returns_often()  # a tenth
    for n in range(2 * SIGHTS_WEIGHED):  # the old counts fade
        seen.sighted(("later", n))
    assert not seen.returns_often()


def test_workers_share_what_they_saw_so_a_page_asked_on_each_is_kept(folder: Path) -> None:
    worker_a = RenderedPages(4, SharedPages(folder))
    worker_b = RenderedPages(4, SharedPages(folder))
    assert (folder / SEEN_FILE).stat().st_size == 8 * SEEN_SLOTS
    assert (folder / SEEN_FILE).stat().st_mode & 0o777 == 0o600
    assert worker_a.look("k") == (None, False)
    assert worker_b.look("k") == (None, True)  # a saw it: b keeps it
    assert worker_b.look("other") == (None, False)
    assert worker_b.first_sight.returns == 1 and worker_a.first_sight.returns == 0


def test_a_seen_file_that_is_odd_is_remade_or_not_used(folder: Path, tmp_path: Path) -> None:
    (folder / SEEN_FILE).write_bytes(b"\xff" * 10)  # the wrong size: made the right one
    worker = RenderedPages(4, SharedPages(folder))
    assert (folder / SEEN_FILE).stat().st_size == 8 * SEEN_SLOTS
    assert not worker.first_sight.sighted("k") and worker.first_sight.sighted("k")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    (folder / SEEN_FILE).unlink()
    (folder / SEEN_FILE).symlink_to(elsewhere)  # never followed
    alone = RenderedPages(4, SharedPages(folder))
    assert not alone.first_sight.sighted("k") and alone.first_sight.sighted("k")  # its own
    assert elsewhere.read_bytes() == b""


def test_a_search_asked_without_gzip_once_on_each_worker_is_kept(
    two_workers: tuple[TestClient, TestClient], searches: list[str]
) -> None:
    one, other = two_workers
    plain = {"Accept-Encoding": "identity"}
    for client in (one, other):  # both have served distinct searches lately
        for n in range(100):
            client.app_state["vod"].searched.first_sight.sighted(("another search", n))
    first = one.get("/search?q=arctic", headers=plain)
    assert first.status_code == 200 and searches == ["arctic"]
    second = other.get("/search?q=arctic", headers=plain)
    assert searches == ["arctic", "arctic"]  # seen before, by the first: kept now
    third = one.get("/search?q=arctic", headers=plain)
    assert searches == ["arctic", "arctic"]
    assert first.text == second.text == third.text
    assert first.headers["etag"] == second.headers["etag"] == third.headers["etag"]


def test_after_a_burst_of_returns_distinct_keys_soon_stop_being_kept() -> None:
    seen = FirstSight()
    burst = _keys_in_their_own_slots(1000)
    for key in burst + burst:  # each asked twice: a warm-up, say
        seen.sighted(key)
    assert seen.returns_often()
    assert seen.returns <= seen.first_sights
    fresh = 0
    while seen.returns_often():
        seen.sighted(("fresh", fresh))
        fresh += 1
    assert fresh <= 3 * SIGHTS_WEIGHED
