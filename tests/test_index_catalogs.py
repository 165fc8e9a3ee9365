"""An index belongs to its catalog (issue 10, item 1).

Two catalogs used from one folder once shared `index/` and its CURRENT pointer: indexing one
switched the other's running server to it. Each version now names its catalog; a server opens
only its own catalog's versions, and each catalog gets its own index folder by default.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_CATALOG
from starlette.testclient import TestClient

from vod import cli
from vod.catalog import load_catalog
from vod.config import BUNDLED_CATALOG, Settings, catalog_identity, default_index_dir
from vod.index import SearchIndex, current_version, update_index
from vod.index import searcher as searcher_module
from vod.index.build import IndexConflict, point_to
from vod.web.app import create_app

ROOT = Path(__file__).parents[1]
SAMPLE_WORDS = "rubber ducks"  # in the sample catalog only
BUNDLED_WORDS = "sticky routing"  # in the bundled catalog only


@pytest.fixture
def catalogs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "conf-a", tmp_path / "conf-b"
    shutil.copytree(SAMPLE_CATALOG, a)
    shutil.copytree(BUNDLED_CATALOG, b)
    return a, b


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("VOD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def total(client: TestClient, query: str) -> int:
    response = client.get("/api/search", params={"q": query})
    assert response.status_code == 200, response.text
    result: int = response.json()["total"]
    return result


def test_indexing_another_catalog_never_switches_a_running_server(
    catalogs: tuple[Path, Path],
    tmp_path: Path,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = catalogs
    shared = tmp_path / "shared-index"  # one folder given to both, on purpose
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    settings = Settings(catalog=a, index_dir=shared, media_dir=tmp_path / "media")
    with TestClient(create_app(settings)) as client:
        assert total(client, SAMPLE_WORDS) >= 1
        live = current_version(shared)
        result = CliRunner().invoke(
            cli.main, ["index", "--catalog", str(b), "--index-dir", str(shared)]
        )
        assert result.exit_code == 1
        assert "another catalog" in result.output and "Traceback" not in result.output
        assert current_version(shared) == live
        assert total(client, SAMPLE_WORDS) >= 1  # still its own catalog's answers
        assert total(client, BUNDLED_WORDS) == 0
        assert client.get("/healthz").json()["index"]["status"] == "ok"


def test_a_version_of_another_catalog_is_never_followed(
    catalogs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = catalogs
    shared = tmp_path / "shared-index"
    own = update_index(load_catalog(a), shared, source=a)
    # Nobody serves the folder yet: another catalog may take it over.
    foreign = update_index(load_catalog(b), shared, source=b)
    assert current_version(shared) == foreign
    index = SearchIndex(shared, catalog_identity(a))
    assert index.info == own  # its own catalog's newest version, not CURRENT
    assert index.search(SAMPLE_WORDS).total >= 1
    assert index.search(BUNDLED_WORDS).total == 0
    health = index.health()
    assert health["status"] == "mismatch" and foreign.path.name in health["detail"]
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    settings = Settings(catalog=a, index_dir=shared, media_dir=tmp_path / "media")
    with TestClient(create_app(settings)) as client:
        # Its start-up took the folder back (nothing served the other catalog's version)...
        assert client.get("/healthz").json()["index"]["status"] == "ok"
        taken_back = current_version(shared)
        assert taken_back is not None and taken_back.catalog == catalog_identity(a)
        # ...and a pointer moved to it behind its back (an older vod, a hand) is not followed.
        point_to(shared, foreign.path.name)
        body = client.get("/healthz").json()
        assert (body["status"], body["index"]["status"]) == ("degraded", "mismatch")
        assert total(client, SAMPLE_WORDS) >= 1


def test_a_search_index_without_any_own_version_says_why(
    catalogs: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = catalogs
    update_index(load_catalog(b), tmp_path / "i", source=b)
    index = SearchIndex(tmp_path / "i", catalog_identity(a))
    with pytest.raises(Exception, match="another catalog"):
        index.search("anything")
    assert index.health()["status"] == "mismatch"


def test_each_catalog_gets_its_own_index_folder(catalogs: tuple[Path, Path]) -> None:
    a, b = catalogs
    for_a = Settings.from_env({"VOD_CATALOG": str(a)})
    for_b = Settings.from_env({"VOD_CATALOG": str(b)})
    assert for_a.index_dir != for_b.index_dir
    assert for_a.index_dir.parent == for_b.index_dir.parent == Path("index")
    assert for_a.index_dir.name.startswith("conf-a-")
    assert for_a.index_dir == default_index_dir(a) == Settings(catalog=a).index_dir
    # The command line's --catalog moves the folder with it, unless a folder was given.
    assert for_a.replace(catalog=b).index_dir == for_b.index_dir
    given = Settings.from_env({"VOD_CATALOG": str(a), "VOD_INDEX_DIR": "index"})
    assert given.index_dir == Path("index")
    assert given.replace(catalog=b).index_dir == Path("index")


def test_switching_catalogs_back_and_forth_does_not_rebuild(
    catalogs: tuple[Path, Path], tmp_path: Path, clean_env: None
) -> None:
    a, b = catalogs
    runner = CliRunner()

    def index(catalog: Path) -> str:
        result = runner.invoke(cli.main, ["index", "--catalog", str(catalog)])
        assert result.exit_code == 0, result.output
        return result.output.split("Index ", 1)[1].split(":", 1)[0]

    first_a, first_b = index(a), index(b)
    assert index(a) == first_a and index(b) == first_b  # nothing rebuilt
    assert len(list((tmp_path / "index").glob("*/CURRENT"))) == 2
    # In one folder given to both (no server), each catalog's own version is taken back up.
    shared = tmp_path / "shared"
    own_a = update_index(load_catalog(a), shared, source=a)
    update_index(load_catalog(b), shared, source=b)
    again = update_index(load_catalog(a), shared, source=a)
    assert again == own_a and current_version(shared) == own_a


def test_start_up_updates_the_index_incrementally(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    index_dir = tmp_path / "index"
    settings = Settings(catalog=catalog, index_dir=index_dir, media_dir=tmp_path / "media")
    with TestClient(create_app(settings)):
        first = current_version(index_dir)
    assert first is not None
    path = catalog / "testconf-2024.yaml"
    path.write_text(path.read_text().replace("erasure coding", "fountain tables", 1))
    with TestClient(create_app(settings)) as client:
        assert total(client, "fountain tables") == 1
    live = current_version(index_dir)
    assert live is not None
    meta = json.loads((live.path / "meta.json").read_text())
    assert (meta["updated_from"], meta["changed"]) == (first.path.name, 1)
    assert meta["catalog"] == catalog_identity(catalog)


def test_a_build_never_replaces_another_catalogs_index_in_use(
    catalogs: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = catalogs
    shared = tmp_path / "shared"
    update_index(load_catalog(a), shared, source=a)
    serving = SearchIndex(shared, catalog_identity(a))
    assert serving.search(SAMPLE_WORDS).total >= 1  # it records its lease
    with pytest.raises(IndexConflict, match="another catalog"):
        update_index(load_catalog(b), shared, source=b)


def test_serve_get_needs_only_runtime_packages(tmp_path: Path) -> None:
    # httpx2 and httpx are test-only (Starlette's TestClient needs them): make them unimportable.
    code = (
        "import sys; sys.modules['httpx'] = sys.modules['httpx2'] = None; "
        "from vod.cli import main; main()"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    result = subprocess.run(
        [sys.executable, "-c", code, "serve", "--get", "/healthz"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["index"]["status"] == "ok"
    result = subprocess.run(
        [sys.executable, "-c", code, "serve", "--get", "/talks/no-such-talk"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1 and "<html" in result.stdout.lower()


def test_serve_get_never_replaces_an_index_a_server_uses(
    catalogs: tuple[Path, Path], tmp_path: Path, clean_env: None
) -> None:
    a, b = catalogs
    shared = tmp_path / "shared"
    update_index(load_catalog(a), shared, source=a)
    serving = SearchIndex(shared, catalog_identity(a))
    assert serving.search(SAMPLE_WORDS).total >= 1
    live = current_version(shared)
    result = CliRunner().invoke(
        cli.main, ["serve", "--catalog", str(b), "--index-dir", str(shared), "--get", "/"]
    )
    assert result.exit_code == 1 and "another catalog" in result.output
    assert current_version(shared) == live
