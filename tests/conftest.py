"""Shared fixtures: sample catalog → index (built once) → settings → app → client.

Tests that write use `tmp_path`; `make_settings` builds variants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from vod import pages
from vod.catalog import Catalog, load_catalog
from vod.config import BUNDLED_CATALOG, Settings
from vod.index import build_index
from vod.web.app import create_app

DATA = Path(__file__).parent / "data"
SAMPLE_CATALOG = DATA / "catalog"  # tiny test-only events, never real people


@pytest.fixture(scope="session")
def bundled_catalog() -> Catalog:
    return load_catalog(BUNDLED_CATALOG)


@pytest.fixture(scope="session")
def bundled_index_dir(tmp_path_factory: pytest.TempPathFactory, bundled_catalog: Catalog) -> Path:
    """An index of the bundled catalog, built once per session; treat it as read-only."""
    index_dir = tmp_path_factory.mktemp("bundled-index")
    build_index(bundled_catalog, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty local media folder: every bundled talk plays the placeholder."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def settings(bundled_index_dir: Path, media_dir: Path) -> Settings:
    return Settings(catalog=BUNDLED_CATALOG, index_dir=bundled_index_dir, media_dir=media_dir)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings for a test that needs its own catalog, index or media folder."""

    def make(**changes: Any) -> Settings:
        base = Settings(
            catalog=BUNDLED_CATALOG,
            index_dir=tmp_path / "index",
            media_dir=tmp_path / "media",
        )
        return base.replace(**changes)

    return make


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """A test client on the bundled catalog; the lifespan runs, as in production."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def renice_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`vod index` lowers its own CPU priority; in-process CLI tests must not lower pytest's.

    Records the increments asked for instead (subprocess builds really renice themselves).
    """
    calls: list[int] = []

    def record(increment: int) -> int:
        calls.append(increment)
        return increment

    monkeypatch.setattr("os.nice", record)
    return calls


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries that reached pages.run_search (a kept search page is not searched again)."""
    calls: list[str] = []
    original = pages.run_search

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[2].get("q")))
        return original(*args, **kwargs)

    monkeypatch.setattr(pages, "run_search", counting)
    return calls
