"""Damaged files and concurrent builds (issue 10, item 8).

A segment truncated under a server killed its workers with SIGBUS (memory-mapped reads), and
incremental builds hard-link segments, so one damaged file hit every version sharing it; two
builds at once both went live, the last to finish winning; nothing was fsynced before the
pointer moved; a full disk ended `vod index` with tracebacks, two from writer processes.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CATALOG
from starlette.testclient import TestClient

from vod.catalog import load_catalog
from vod.config import Settings
from vod.errors import IndexDamaged
from vod.index import SearchIndex, build_index, current_version, update_index
from vod.index import searcher as searcher_module
from vod.index.build import NewerIndexLive
from vod.index.lock import IndexBusy, build_lock
from vod.web.app import create_app

ROOT = Path(__file__).parents[1]


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, target)
    return target


@pytest.fixture(autouse=True)
def look_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)


def biggest_segment(version: Path) -> Path:
    return max(version.glob("*.seg"), key=lambda p: p.stat().st_size)


def edit(catalog_dir: Path) -> None:
    path = catalog_dir / "testconf-2024.yaml"
    path.write_text(path.read_text().replace("erasure coding", "fountain tables", 1))


# ---- a damaged index never kills a worker -------------------------------------------------

TRUNCATE = """
import os, sys
from pathlib import Path
from vod.catalog import load_catalog
from vod.errors import IndexNotBuilt
from vod.index import SearchIndex, build_index

index_dir, catalog = Path(sys.argv[1]), Path(sys.argv[2])
info = build_index(load_catalog(catalog), index_dir)
index = SearchIndex(index_dir)
print("before", index.search("erasure coding").total, flush=True)
segment = max(info.path.glob("*.seg"), key=lambda p: p.stat().st_size)
os.truncate(segment, segment.stat().st_size // 4)
# Words the index has: each search must read the damaged segment (a word no field has is known
# absent from the field's terms read before the damage, and is answered "none" from memory).
for query in ("ducks", "deploying", "storage", "flaky", "streaming"):
    try:
        print("after", index.search(query).total, flush=True)
    except IndexNotBuilt as exc:
        print("refused", type(exc).__name__, flush=True)
    try:
        print("transcript", len(index.transcript("continuous-deployment-for-imaginary-services")))
    except IndexNotBuilt as exc:  # a talk page renders without it (pages.with_transcript)
        print("transcript refused", type(exc).__name__, flush=True)
try:
    print("absent", index.search("zyzzogeton").total, flush=True)
except IndexNotBuilt as exc:
    print("absent refused", type(exc).__name__, flush=True)
"""


def test_a_truncated_segment_never_kills_the_process(tmp_path: Path) -> None:
    # In a process of its own: before the fix, it died of SIGBUS (memory-mapped reads).
    result = subprocess.run(
        [sys.executable, "-c", TRUNCATE, str(tmp_path / "index"), str(SAMPLE_CATALOG)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    lines = result.stdout.splitlines()
    assert lines[0] == "before 1"
    assert lines.count("refused IndexDamaged") == 5  # 503 for search, never a crash
    assert lines.count("transcript refused IndexDamaged") == 5
    assert lines[-1] in ("absent 0", "absent refused IndexDamaged")  # never a crash


def test_a_damaged_version_falls_back_to_the_previous_intact_one(
    tmp_path: Path, catalog_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    first = build_index(load_catalog(catalog_dir), index_dir)
    edit(catalog_dir)
    second = build_index(load_catalog(catalog_dir), index_dir)  # full: files of its own
    index = SearchIndex(index_dir)
    assert index.search("fountain tables").total == 1
    segment = biggest_segment(second.path)
    os.truncate(segment, segment.stat().st_size // 2)
    assert index.search("erasure coding").total == 1  # the previous version answers
    assert index.info == first
    health = index.health()
    assert (health["status"], health["version"]) == ("fallback", first.path.name)
    assert second.path.name in health["detail"] and health["damaged"] == [second.path.name]


def test_changed_bytes_are_found_before_a_version_is_opened(
    tmp_path: Path, catalog_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    first = build_index(load_catalog(catalog_dir), index_dir)
    second = build_index(load_catalog(catalog_dir), index_dir)
    segment = biggest_segment(second.path)
    with segment.open("r+b") as fh:  # same size, other bytes: only a checksum tells
        fh.seek(segment.stat().st_size // 2)
        fh.write(b"\0" * 64)
    index = SearchIndex(index_dir)
    assert index.info == first
    assert index.health()["status"] == "fallback"


def test_damage_shared_through_hard_links_hits_every_version(
    tmp_path: Path, catalog_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    first = update_index(load_catalog(catalog_dir), index_dir)
    edit(catalog_dir)
    second = update_index(load_catalog(catalog_dir), index_dir)  # incremental: links segments
    segment = biggest_segment(second.path)
    assert (first.path / segment.name).stat().st_ino == segment.stat().st_ino
    index = SearchIndex(index_dir)
    assert index.search("fountain tables").total == 1
    os.truncate(segment, segment.stat().st_size // 2)
    with pytest.raises(IndexDamaged):
        index.search("ducks")  # neither version is intact: 503, not the first version
    health = index.health()
    assert health["status"] == "damaged"
    assert health["damaged"] == sorted([first.path.name, second.path.name])
    # The next update does not link the damaged file again: a full build, intact.
    edit_back = catalog_dir / "testconf-2024.yaml"
    edit_back.write_text(edit_back.read_text().replace("fountain tables", "tidal tables", 1))
    third = update_index(load_catalog(catalog_dir), index_dir)
    assert "updated_from" not in (third.path / "meta.json").read_text()
    assert index.search("tidal tables").total == 1
    assert index.health()["status"] == "ok"


def test_the_app_answers_503_and_healthz_says_damaged(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", media_dir=tmp_path / "media")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/search", params={"q": "snowflake"}).status_code == 200
        live = current_version(settings.index_dir)
        assert live is not None
        segment = biggest_segment(live.path)
        os.truncate(segment, segment.stat().st_size // 3)
        assert client.get("/api/search", params={"q": "llm"}).status_code == 503
        assert client.get("/search", params={"q": "llm"}).status_code == 503
        body = client.get("/healthz").json()
        assert (body["status"], body["index"]["status"]) == ("degraded", "damaged")
        assert client.get("/talks/training-arctic-at-snowflake").status_code == 200


# ---- one build at a time, never back to an older catalog -----------------------------------


def test_a_second_build_waits_for_the_first(tmp_path: Path, catalog_dir: Path) -> None:
    index_dir = tmp_path / "index"
    first = update_index(load_catalog(catalog_dir), index_dir)
    edit(catalog_dir)
    catalog = load_catalog(catalog_dir)
    waiting = threading.Event()
    built: list[Any] = []

    def second_build() -> None:
        built.append(update_index(catalog, index_dir, waiting=lambda message: waiting.set()))

    with build_lock(index_dir):  # a build under way
        thread = threading.Thread(target=second_build)
        thread.start()
        assert waiting.wait(60)  # told it waits for the other build
        assert current_version(index_dir) == first and not built
        with pytest.raises(IndexBusy, match="another build"), build_lock(index_dir, wait=False):
            pass
    thread.join(120)
    assert built and current_version(index_dir) == built[0] != first


def test_a_build_never_replaces_a_version_of_a_newer_catalog(
    tmp_path: Path, catalog_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    older = load_catalog(catalog_dir)  # read first...
    edit(catalog_dir)
    newer = load_catalog(catalog_dir)  # ...read later, and built first
    live = update_index(newer, index_dir, source=catalog_dir, as_of=2000.0)
    with pytest.raises(NewerIndexLive, match="later read of the catalog"):
        update_index(older, index_dir, source=catalog_dir, as_of=1000.0)
    assert current_version(index_dir) == live


def test_files_and_folders_reach_the_disk_before_the_pointer_moves(
    tmp_path: Path, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    synced_at_switch: list[str] = []

    def fsync(fd: int) -> None:
        synced.append(os.path.realpath(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        if Path(target).name == "CURRENT":
            synced_at_switch.extend(synced)
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    info = build_index(load_catalog(catalog_dir), index_dir)
    names = {p.name for p in info.path.iterdir() if p.is_file()}
    flushed = {Path(p).name for p in synced_at_switch}
    assert names - {"MAIN_WRITELOCK"} <= flushed  # every data file, under its building name
    assert any(Path(p).name.startswith(".building-") for p in synced_at_switch)  # its folder
    assert os.path.realpath(index_dir) in synced_at_switch  # the folder it was renamed in


# ---- a full disk: one line, no traceback --------------------------------------------------

DISK_FULL = (
    "import sys, vod.index.writers as w; w.PARALLEL_FROM = int(sys.argv.pop(1)); "
    "from vod.cli import main; main()"
)


@pytest.mark.parametrize(
    ("limit", "processes"),
    [
        (2_000, 1_000_000),  # the builder itself cannot write
        (40_000, 1),  # the writer processes cannot write their segments
    ],
    ids=["builder", "writer-processes"],
)
def test_a_full_disk_ends_the_build_with_one_line(
    tmp_path: Path, limit: int, processes: int
) -> None:
    def small_files() -> None:  # a file-size limit fails writes as a full disk does
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    index_args = ["--catalog", str(SAMPLE_CATALOG), "--index-dir", str(tmp_path / "index")]
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(processes), "index", *index_args],
        preexec_fn=small_files,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: cannot write the index in {tmp_path / 'index'}: "), last
    assert "File too large" in last
    assert current_version(tmp_path / "index") is None
