"""Admin reindex: token required (constant-time), background rebuild, failures keep serving."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CATALOG
from starlette.testclient import TestClient

from vod.config import Settings
from vod.index import current_version
from vod.web.app import create_app

TOKEN = "s3cret-token"


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, target)
    return target


def _wait(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get("/admin/reindex", headers=headers).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("reindex did not finish")


def test_disabled_without_a_token(
    make_settings: Callable[..., Settings], catalog_dir: Path
) -> None:
    with TestClient(create_app(make_settings(catalog=catalog_dir))) as client:
        response = client.post("/admin/reindex", headers={"Authorization": "Bearer x"})
    assert response.status_code == 403
    assert "VOD_ADMIN_TOKEN" in response.json()["error"]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
    ],
)
def test_wrong_token_is_refused(
    make_settings: Callable[..., Settings], catalog_dir: Path, header: str | None
) -> None:
    settings = make_settings(catalog=catalog_dir, admin_token=TOKEN)
    headers = {} if header is None else {"Authorization": header}
    with TestClient(create_app(settings)) as client:
        before = current_version(settings.index_dir)
        post = client.post("/admin/reindex", headers=headers)
        get = client.get("/admin/reindex", headers=headers)
    assert post.status_code == 401
    assert get.status_code == 401
    assert post.headers["www-authenticate"].startswith("Bearer")
    assert current_version(settings.index_dir) == before


def test_reindex_builds_a_new_version(
    make_settings: Callable[..., Settings], catalog_dir: Path
) -> None:
    settings = make_settings(catalog=catalog_dir, admin_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:
        before = current_version(settings.index_dir)
        assert client.get("/admin/reindex", headers=auth).json() == {"status": "never run"}
        response = client.post("/admin/reindex", headers=auth)
        assert response.status_code == 202
        assert response.json()["status"] == "running"
        job = _wait(client, auth)
    after = current_version(settings.index_dir)
    assert job["status"] == "done"
    assert before is not None and after is not None
    assert after.path != before.path
    assert job["version"] == after.path.name
    assert job["documents"] == after.documents == 8


def test_invalid_catalog_keeps_the_live_index(
    make_settings: Callable[..., Settings], catalog_dir: Path
) -> None:
    settings = make_settings(catalog=catalog_dir, admin_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:
        before = current_version(settings.index_dir)
        (catalog_dir / "broken.yaml").write_text("event:\n  slug: Bad Slug\n")
        assert client.post("/admin/reindex", headers=auth).status_code == 202
        job = _wait(client, auth)
        assert job["status"] == "failed"
        assert "live index keeps serving" in job["error"]
        assert job["problems"][0]["field"] == "event.slug"
        assert job["problems"][0]["line"] == 2
        assert current_version(settings.index_dir) == before
        assert client.get("/search?q=ada").status_code == 200


def test_the_build_runs_in_its_own_process(
    make_settings: Callable[..., Settings], catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build in the worker's threads would hold the GIL its requests need."""
    import vod.index

    settings = make_settings(catalog=catalog_dir, admin_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:

        def not_here(*args: object, **kwargs: object) -> None:
            raise AssertionError("built inside the server process")

        monkeypatch.setattr(vod.index, "build_index", not_here)
        monkeypatch.setattr(vod.index.build, "build_index", not_here)
        assert client.post("/admin/reindex", headers=auth).status_code == 202
        job = _wait(client, auth)
    assert job["status"] == "done", job
    live = current_version(settings.index_dir)
    assert live is not None and job["version"] == live.path.name
