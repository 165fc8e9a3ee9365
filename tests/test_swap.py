"""Zero-downtime index swaps: searches during rebuilds, killed builds, workers that follow."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import SAMPLE_CATALOG
from s3server import child_env, free_port, running

from vod.catalog import load_catalog
from vod.index import SearchIndex, build_index, current_version
from vod.index import searcher as searcher_module

NEW_TALK = """
  - slug: freshly-added-talk
    title: Freshly added talk about lighthouses
    speakers: [ada-example]
"""


def _add_talk(catalog: Path) -> None:
    event_file = catalog / "testconf-2024.yaml"
    event_file.write_text(event_file.read_text().replace("talks:\n", "talks:" + NEW_TALK, 1))


def _vod_index(catalog: Path, index_dir: Path) -> list[str]:
    """The command line of the real `vod index` for `catalog` into `index_dir`."""
    return [
        sys.executable,
        "-m",
        "vod",
        "index",
        "--catalog",
        str(catalog),
        "--index-dir",
        str(index_dir),
    ]


def _big_catalog(folder: Path, talks: int) -> Path:
    """Write a test-only catalog large enough that a build takes a moment."""
    folder.mkdir()
    lines = [
        "event:\n  slug: bulk-conf\n  name: Bulk Conf\n  start_date: 2030-01-01\n"
        "  timezone: UTC\ntalks:\n"
    ]
    for n in range(talks):
        lines.append(
            f"  - slug: bulk-talk-{n}\n    title: Bulk talk number {n} about storage\n"
            f"    abstract: Replication, consensus and caches, variation {n} of many.\n"
        )
    (folder / "bulk.yaml").write_text("".join(lines))
    return folder


def test_searches_during_rebuilds_never_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    catalog = load_catalog(SAMPLE_CATALOG)
    build_index(catalog, tmp_path)
    index = SearchIndex(tmp_path)
    errors: list[BaseException] = []
    done = threading.Event()
    searches = 0

    def hammer() -> None:
        nonlocal searches
        while not done.is_set():
            try:
                assert index.search("ada").total >= 1
                searches += 1
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(6):
            build_index(catalog, tmp_path)
    finally:
        done.set()
        for thread in threads:
            thread.join(10)
    assert errors == []
    assert searches > 0


def test_killed_build_leaves_the_live_index_and_the_next_build_recovers(tmp_path: Path) -> None:
    catalog = _big_catalog(tmp_path / "catalog", 3000)
    index_dir = tmp_path / "index"
    build_index(load_catalog(SAMPLE_CATALOG), index_dir)
    live = current_version(index_dir)
    env = child_env()
    args = _vod_index(catalog, index_dir)
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(index_dir.glob(".building-*")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the build finished before it could be killed"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert current_version(index_dir) == live
    assert SearchIndex(index_dir).search("ada").total >= 1
    subprocess.run(args, env=env, check=True, capture_output=True)
    after = current_version(index_dir)
    assert after is not None and after.documents == 3000
    assert not list(index_dir.glob(".building-*"))  # the killed build's folder is gone


def test_two_workers_follow_a_new_index_within_5_s(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    index_dir = tmp_path / "index"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "vod",
        "serve",
        "--workers",
        "2",
        "--port",
        str(port),
        "--catalog",
        str(catalog),
        "--index-dir",
        str(index_dir),
        "--media-dir",
        str(tmp_path / "media"),
    ]
    query = base + "/api/search?" + urllib.parse.urlencode({"q": "lighthouses"})
    with running(args, tmp_path / "serve.log", base + "/healthz", cwd=tmp_path, env=child_env()):
        assert json.load(urllib.request.urlopen(query))["total"] == 0
        failures: list[str] = []
        answered = 0
        stop = threading.Event()

        def load() -> None:
            nonlocal answered
            paths = [
                "/talks/distributed-storage-without-tears",
                "/search?q=ada",
                "/api/search?q=volume",
                "/",
            ]
            while not stop.is_set():
                for path in paths:
                    try:
                        with urllib.request.urlopen(base + path, timeout=10) as response:
                            response.read()
                            answered += 1
                    except Exception as exc:
                        failures.append(f"{path}: {exc!r}")

        loaders = [threading.Thread(target=load) for _ in range(4)]
        for thread in loaders:
            thread.start()
        try:
            _add_talk(catalog)
            subprocess.run(  # the real `vod index`, while the site is under load
                _vod_index(catalog, index_dir),
                env=child_env(),
                check=True,
                capture_output=True,
            )
            time.sleep(1)
        finally:
            stop.set()
            for thread in loaders:
                thread.join(20)
        assert failures == []
        assert answered > 20
        switched = time.monotonic()
        # Every answer within 5 s of the switch (counted from the end of the build and the
        # load above, which is later), from whichever worker, shows the new talk.
        settled = None
        while time.monotonic() - switched < 5:
            totals = {json.load(urllib.request.urlopen(query))["total"] for _ in range(8)}
            if totals == {1}:
                settled = time.monotonic() - switched
                break
            time.sleep(0.05)
        assert settled is not None, "workers did not follow the new index within 5 s"
        page = urllib.request.urlopen(base + "/talks/freshly-added-talk")
        assert page.status == 200
