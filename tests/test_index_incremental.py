"""Incremental index updates: only changed talks are re-indexed; the live version is untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CATALOG

from vod.catalog import load_catalog
from vod.catalog.cache import load_catalog_cached
from vod.index import SearchIndex, current_version, incremental, writers
from vod.index import build as build_module
from vod.index.fingerprints import TALKS_FILE, read_talk_state
from vod.index.incremental import update_index

STORAGE = "distributed-storage-without-tears"


def slugs(index_dir: Path, query: str) -> list[str]:
    return [hit.slug for hit in SearchIndex(index_dir).search(query).hits]


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, target)
    return target


def edit(catalog_dir: Path, name: str, old: str, new: str) -> None:
    path = catalog_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def files(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
        for p in folder.iterdir()
        if p.is_file()
    }


def test_first_build_is_full_and_keeps_fingerprints(tmp_path: Path, catalog_dir: Path) -> None:
    info = update_index(load_catalog(catalog_dir), tmp_path / "index")
    state = read_talk_state(info.path)
    assert state is not None and len(state.talks) == 8
    assert "updated_from" not in json.loads((info.path / "meta.json").read_text())


def test_one_changed_talk_is_all_that_is_reindexed(tmp_path: Path, catalog_dir: Path) -> None:
    index_dir = tmp_path / "index"
    first = update_index(load_catalog(catalog_dir), index_dir)
    before = files(first.path)
    assert slugs(index_dir, "erasure coding") == [STORAGE]
    edit(catalog_dir, "testconf-2024.yaml", "erasure coding", "fountain tables")
    changed = load_catalog(catalog_dir)
    info = update_index(changed, index_dir)
    meta = json.loads((info.path / "meta.json").read_text())
    assert (meta["updated_from"], meta["changed"], meta["removed"]) == (first.path.name, 1, 0)
    assert (info.digest, info.documents) == (changed.digest, 8)
    assert current_version(index_dir) == info
    assert slugs(index_dir, "fountain tables") == [STORAGE]
    assert slugs(index_dir, "erasure") == []
    assert slugs(index_dir, "rubber ducks")  # the other talks are still found
    assert files(first.path) == before  # the live version's files were never written to
    # Nothing changed: the live version is returned as it is.
    assert update_index(changed, index_dir) == info


def test_speaker_event_added_and_removed_talks(
    tmp_path: Path, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incremental, "FULL_BUILD_SHARE", 1.0)  # 4 of 8 talks change
    index_dir = tmp_path / "index"
    update_index(load_catalog(catalog_dir), index_dir)
    # A speaker's new name changes the documents of their talks, in another file.
    edit(catalog_dir, "speakers.yaml", "name: Ada Example", "name: Ada Renamed")
    # A talk goes away; another arrives.
    edit(
        catalog_dir,
        "testconf-2024.yaml",
        "  - slug: testconf-2024-open-discussion",
        "  - slug: testconf-2024-closing-discussion",
    )
    info = update_index(load_catalog(catalog_dir), index_dir)
    meta = json.loads((info.path / "meta.json").read_text())
    assert (meta["changed"], meta["removed"]) == (3, 1)  # Ada's two talks and the new one
    assert set(slugs(index_dir, "speaker:renamed")) == {
        "testconf-2024-keynote",
        "continuous-deployment-for-imaginary-services",
    }
    found = slugs(index_dir, "unscheduled conversation")
    assert found == ["testconf-2024-closing-discussion"]
    facets = json.loads((info.path / "facets.json").read_text())
    assert "testconf-2024-closing-discussion" in facets["slugs"]
    assert "testconf-2024-open-discussion" not in facets["slugs"]


def test_full_is_forced_or_chosen_when_much_changed(
    tmp_path: Path, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    update_index(load_catalog(catalog_dir), index_dir)
    edit(catalog_dir, "testconf-2024.yaml", "erasure coding", "fountain tables")
    forced = update_index(load_catalog(catalog_dir), index_dir, full=True)
    assert "updated_from" not in json.loads((forced.path / "meta.json").read_text())
    edit(catalog_dir, "testconf-2023.yaml", "TestConf 2023", "TestConf 2023 renamed")
    monkeypatch.setattr(incremental, "FULL_BUILD_SHARE", 0.1)  # 3 of 8 talks change
    chosen = update_index(load_catalog(catalog_dir), index_dir)
    assert "updated_from" not in json.loads((chosen.path / "meta.json").read_text())


def test_a_version_without_fingerprints_or_of_another_format_is_rebuilt(
    tmp_path: Path, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    first = update_index(load_catalog(catalog_dir), index_dir)
    (first.path / TALKS_FILE).write_bytes(b"corrupt")
    edit(catalog_dir, "testconf-2024.yaml", "erasure coding", "fountain tables")
    second = update_index(load_catalog(catalog_dir), index_dir)
    assert "updated_from" not in json.loads((second.path / "meta.json").read_text())
    monkeypatch.setattr(incremental, "INDEX_FORMAT", second.format + 1)
    monkeypatch.setattr(build_module, "INDEX_FORMAT", second.format + 1)
    edit(catalog_dir, "testconf-2024.yaml", "fountain tables", "raptor tables")
    third = update_index(load_catalog(catalog_dir), index_dir)
    assert third.format == second.format + 1
    assert "updated_from" not in json.loads((third.path / "meta.json").read_text())


def test_cached_catalogs_carry_fingerprints(tmp_path: Path, catalog_dir: Path) -> None:
    loaded = load_catalog_cached(catalog_dir, tmp_path / "cache")
    assert {k[0] for k in loaded.fingerprints} == {"e", "t", "s"}
    assert len([k for k in loaded.fingerprints if k.startswith("t:")]) == 8
    index_dir = tmp_path / "index"
    update_index(loaded, index_dir)
    edit(catalog_dir, "testconf-2024.yaml", "erasure coding", "fountain tables")
    info = update_index(load_catalog_cached(catalog_dir, tmp_path / "cache"), index_dir)
    assert json.loads((info.path / "meta.json").read_text())["changed"] == 1


def test_two_writer_processes_give_a_searchable_index(
    tmp_path: Path, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers, "PARALLEL_FROM", 1)
    made: list[str] = []
    real = writers.fast_writer

    def fast_writer(ix: Any, n: int, parallel: bool) -> Any:
        writer = real(ix, n, parallel)
        made.append(type(writer).__name__)
        return writer

    monkeypatch.setattr(build_module, "fast_writer", fast_writer)
    info = update_index(load_catalog(catalog_dir), tmp_path / "index", parallel=True)
    assert made == ["MpWriter"]
    assert info.documents == 8
    assert slugs(tmp_path / "index", "erasure coding") == [STORAGE]
    edit(catalog_dir, "testconf-2024.yaml", "erasure coding", "fountain tables")
    update_index(load_catalog(catalog_dir), tmp_path / "index")
    assert slugs(tmp_path / "index", "fountain tables") == [STORAGE]
