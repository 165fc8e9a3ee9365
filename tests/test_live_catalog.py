"""Workers follow the live index: a new version brings its catalog; a bad catalog never does."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SAMPLE_CATALOG
from starlette.testclient import TestClient

from vod import browse
from vod.catalog import Catalog, load_catalog
from vod.config import Settings
from vod.index import build_index
from vod.index import searcher as searcher_module
from vod.web import state as state_module
from vod.web.app import create_app

NEW_TALK = """
  - slug: freshly-added-talk
    title: Freshly added talk about lighthouses
    speakers: [ada-example]
"""


@pytest.fixture
def catalog_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    monkeypatch.setattr(state_module, "CATALOG_CHECK_EVERY", 0)
    target = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, target)
    return target


def _poll(client: TestClient, path: str, status: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if client.get(path).status_code == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never answered {status}")


def test_new_index_version_brings_its_catalog(
    make_settings: Callable[..., Settings], catalog_dir: Path
) -> None:
    settings = make_settings(catalog=catalog_dir)
    with TestClient(create_app(settings)) as client:
        assert client.get("/talks/freshly-added-talk").status_code == 404
        event_file = catalog_dir / "testconf-2024.yaml"
        event_file.write_text(event_file.read_text().replace("talks:\n", "talks:" + NEW_TALK, 1))
        build_index(load_catalog(catalog_dir), settings.index_dir)  # what `vod index` does
        _poll(client, "/talks/freshly-added-talk", 200)
        hits = client.get("/api/search?q=lighthouses").json()["results"]
        assert [h["slug"] for h in hits] == ["freshly-added-talk"]
        assert client.get("/healthz").json()["catalog"]["status"] == "ok"


def test_invalid_catalog_never_replaces_the_good_one(
    make_settings: Callable[..., Settings], catalog_dir: Path, tmp_path: Path
) -> None:
    settings = make_settings(catalog=catalog_dir)
    with TestClient(create_app(settings)) as client:
        good_digest = client.get("/healthz").json()["catalog"]["digest"]
        # Another catalog went live in the index, but the files here are now broken.
        other = tmp_path / "other"
        shutil.copytree(SAMPLE_CATALOG, other)
        (other / "extra.yaml").write_text("speakers:\n  - slug: someone-else\n")
        build_index(load_catalog(other), settings.index_dir)
        (catalog_dir / "testconf-2024.yaml").write_text("event: [not, a, mapping\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            health = client.get("/healthz").json()
            if health["catalog"]["status"] == "degraded":
                break
            time.sleep(0.05)
        assert health["status"] == "degraded"
        assert "catalog reload failed" in health["catalog"]["detail"]
        assert "testconf-2024.yaml" in health["catalog"]["detail"]
        assert health["catalog"]["digest"] == good_digest  # still the good one
        assert client.get("/events/testconf-2024").status_code == 200


def test_a_reloaded_catalog_is_prepared_before_it_serves(
    make_settings: Callable[..., Settings], catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The /talks sort orders of a catalog a reload brings are made in the background reload,
    not by the first request that lists talks (issue #11)."""
    prepared: list[str] = []
    real_warm = browse.warm

    def warm(catalog: Catalog) -> None:
        real_warm(catalog)
        prepared.append(catalog.digest)

    monkeypatch.setattr(browse, "warm", warm)
    settings = make_settings(catalog=catalog_dir)
    with TestClient(create_app(settings)) as client:
        assert len(prepared) == 1
        event_file = catalog_dir / "testconf-2024.yaml"
        event_file.write_text(event_file.read_text().replace("talks:\n", "talks:" + NEW_TALK, 1))
        build_index(load_catalog(catalog_dir), settings.index_dir)
        _poll(client, "/talks/freshly-added-talk", 200)
        live = client.app_state["vod"].live_catalog.current
        assert prepared[-1] == live.digest != prepared[0]
