"""The validated-catalog cache: same catalog, same problems, only changed files read again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CATALOG

from vod.catalog import cache, load_catalog, validate_catalog
from vod.catalog.cache import load_catalog_cached, validate_catalog_cached
from vod.config import BUNDLED_CATALOG
from vod.errors import CatalogError


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, target)
    return target


@pytest.mark.parametrize("path", [SAMPLE_CATALOG, BUNDLED_CATALOG])
def test_cached_catalog_equals_the_uncached_one(tmp_path: Path, path: Path) -> None:
    plain = load_catalog(path)
    cold = load_catalog_cached(path, tmp_path / "cache")
    warm = load_catalog_cached(path, tmp_path / "cache")
    for loaded in (cold, warm):
        assert loaded == plain
        assert list(loaded.talks) == list(plain.talks)  # the same order: file, then position
        assert list(loaded.speakers) == list(plain.speakers)
        assert [e.source for e in loaded.events.values()] == [
            e.source for e in plain.events.values()
        ]
    assert len(list((tmp_path / "cache").glob("*.json"))) == len(list(path.glob("*.yaml")))


def test_only_changed_files_are_read_again(
    tmp_path: Path, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_catalog_cached(catalog_dir, tmp_path / "cache")
    read: list[str] = []
    real = cache._check_part

    def check_part(f: Path, label: str) -> Any:
        read.append(f.name)
        return real(f, label)

    monkeypatch.setattr(cache, "_check_part", check_part)
    path = catalog_dir / "testconf-2023.yaml"
    path.write_text(path.read_text().replace("TestConf 2023", "TestConf 2023 (renamed)"))
    loaded = load_catalog_cached(catalog_dir, tmp_path / "cache")
    assert read == ["testconf-2023.yaml"]
    assert loaded.event("testconf-2023").name == "TestConf 2023 (renamed)"
    assert loaded == load_catalog(catalog_dir)
    assert loaded.digest == load_catalog(catalog_dir).digest


def test_problems_are_reported_exactly_as_without_the_cache(
    tmp_path: Path, catalog_dir: Path
) -> None:
    load_catalog_cached(catalog_dir, tmp_path / "cache")  # warm: every file is cached
    # Valid on its own, wrong across files: a speaker the other files do not define.
    path = catalog_dir / "testconf-2024.yaml"
    path.write_text(path.read_text().replace("[jose-muller-test]", "[jose-mueller-test]", 1))
    expected = validate_catalog(catalog_dir)
    assert expected[0] is None and expected[1]
    assert validate_catalog_cached(catalog_dir, tmp_path / "cache") == expected
    with pytest.raises(CatalogError) as failure:
        load_catalog_cached(catalog_dir, tmp_path / "cache")
    assert failure.value.problems == expected[1]


def test_a_broken_catalog_writes_no_cache(tmp_path: Path, catalog_dir: Path) -> None:
    (catalog_dir / "speakers.yaml").write_text("speakers: [", encoding="utf-8")
    catalog, problems = validate_catalog_cached(catalog_dir, tmp_path / "cache")
    assert catalog is None and problems == validate_catalog(catalog_dir)[1]
    assert not (tmp_path / "cache").exists()


def test_corrupt_or_foreign_entries_are_ignored(tmp_path: Path, catalog_dir: Path) -> None:
    folder = tmp_path / "cache"
    load_catalog_cached(catalog_dir, folder)
    entries = sorted(folder.glob("*.json"))
    entries[0].write_bytes(b"garbage")
    # Well-formed JSON, but a record of the wrong shape.
    body = {"format": cache.FORMAT, "key": entries[1].stem, "part": {"events": {"x": [1]}}}
    entries[1].write_text(json.dumps(body))
    assert load_catalog_cached(catalog_dir, folder) == load_catalog(catalog_dir)


def test_entries_of_other_code_are_never_used(
    tmp_path: Path, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    load_catalog_cached(catalog_dir, folder)
    before = {p.name for p in folder.glob("*.json")}
    monkeypatch.setattr(cache, "_FINGERPRINT", "another version of vod")
    load_catalog_cached(catalog_dir, folder)
    after = {p.name for p in folder.glob("*.json")}
    assert before.isdisjoint(after - before) and len(after - before) == len(before)


def test_no_cache_folder_loads_plainly(catalog_dir: Path) -> None:
    assert load_catalog_cached(catalog_dir, None) == load_catalog(catalog_dir)


def test_cached_catalog_keeps_speaker_redirects(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "a.yaml").write_text("speakers:\n  - {slug: ada, name: Ada, former_slugs: [ada-1]}\n")
    (folder / "b.yaml").write_text("speakers:\n  - {slug: bob, name: Bob, former_slugs: [bob-1]}\n")
    for _ in range(2):  # cold, then warm
        loaded = load_catalog_cached(folder, tmp_path / "cache")
        assert dict(loaded.speaker_redirects) == {"ada-1": "ada", "bob-1": "bob"}
    # A former slug in one file that is a speaker in another: the full check reports it.
    (folder / "b.yaml").write_text("speakers:\n  - {slug: ada-1, name: Bob}\n")
    with pytest.raises(CatalogError, match="'ada-1' is the slug of another speaker"):
        load_catalog_cached(folder, tmp_path / "cache")


def test_a_speakers_former_slug_survives_the_cache(tmp_path: Path) -> None:
    """The cache keeps speaker redirects (a merged speaker's old slug) like talk redirects."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "conf.yaml").write_text(
        "event:\n  slug: conf-2030\n  name: Conf 2030\n  start_date: 2030-01-01\n"
        "  timezone: UTC\ntalks:\n  - slug: a-talk\n    title: A talk\n    speakers: [ada]\n"
        "speakers:\n  - slug: ada\n    name: Ada\n    former_slugs: [ada-old]\n",
        encoding="utf-8",
    )
    cold = load_catalog_cached(catalog, tmp_path / "cache")
    warm = load_catalog_cached(catalog, tmp_path / "cache")
    assert cold.speaker_redirects == warm.speaker_redirects == {"ada-old": "ada"}
