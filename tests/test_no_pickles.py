"""vod keeps no pickle files of its own: what it writes beside an index, a catalog or an import
is JSON, read only as data (issue 10, item 4).

Each test plants, where vod used to keep a pickle, one that runs a command when unpickled, with
the header vod checked; before the fix vod loaded it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import DATA, SAMPLE_CATALOG

from vod.catalog import load_catalog
from vod.catalog.cache import load_catalog_cached
from vod.importers.pyvideo import import_pyvideo
from vod.index import update_index

ROOT = Path(__file__).parents[1]


def bomb(marker: Path) -> bytes:
    """A pickle that runs `touch marker` when loaded."""
    return b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."


def test_index_fingerprints_are_never_unpickled(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    live = update_index(load_catalog(catalog), tmp_path / "index")
    marker = tmp_path / "code-ran"
    (live.path / "talks.pickle").write_bytes(b"vod-index-talks 1\n" + bomb(marker))
    (live.path / "talks.json").unlink()
    path = catalog / "testconf-2024.yaml"
    path.write_text(path.read_text().replace("erasure coding", "fountain tables", 1))
    update_index(load_catalog(catalog), tmp_path / "index")
    assert not marker.exists()


def test_catalog_cache_entries_are_never_unpickled(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    load_catalog_cached(SAMPLE_CATALOG, folder)
    marker = tmp_path / "code-ran"
    for entry in list(folder.iterdir()):
        key = entry.name.split(".")[0]
        entry.unlink()
        planted = b"vod-catalog-part\n" + key.encode() + bomb(marker)
        (folder / f"{key}.pickle").write_bytes(planted)
    from vod.catalog import cache

    cache._recent.clear()  # no catalog remembered in this process: read the folder
    assert load_catalog_cached(SAMPLE_CATALOG, folder) == load_catalog(SAMPLE_CATALOG)
    assert not marker.exists()


def test_import_state_is_never_unpickled(tmp_path: Path) -> None:
    source = DATA / "pyvideo"
    out = tmp_path / "out"
    import_pyvideo(source, out)
    marker = tmp_path / "code-ran"
    from vod import __version__

    header = b"vod-import-state 2 " + __version__.encode() + b"\n"
    (out / ".vod-import.pickle").write_bytes(header + bomb(marker))
    import_pyvideo(source, out)
    assert not marker.exists()
    assert not list(out.glob("*.pickle"))


def test_vod_loads_no_pickle() -> None:
    # Whoosh's own table of contents stays a pickle: it is opened only from a version whose
    # files match what was recorded or signed (index/guard.py, snapshots.py).
    loads = re.compile(r"pickle\.loads?\(|Unpickler|marshal\.loads?\(")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "vod").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if loads.search(line)
    ]
    assert found == []
