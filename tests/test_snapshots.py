"""Index snapshots in S3 (moto's standalone server): publish, fetch, reject corrupt ones.

Snapshots are signed with VOD_SNAPSHOT_KEY; a forged or unsigned one never reaches anything
that could run code on a host (issue 10, item 4).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_CATALOG
from s3server import (  # noqa: F401
    MotoServer,
    child_env,
    free_port,
    isolate_env,
    moto_server,
    running,
)

from vod import cli
from vod.catalog import load_catalog
from vod.index import IndexInfo, SearchIndex, build_index, current_version
from vod.snapshots import (
    LATEST,
    MANIFEST,
    SIGNATURE,
    SnapshotError,
    SnapshotPoller,
    SnapshotStore,
    install_snapshot,
    live_catalog_path,
    publish,
    sign,
    snapshot_health,
)

pytestmark = pytest.mark.s3

KEY = "k" * 32 + "-test-only-snapshot-key"  # a test-only secret


@pytest.fixture
def store(moto_server: MotoServer) -> Iterator[SnapshotStore]:  # noqa: F811
    client = moto_server.client()
    with contextlib.closing(client):
        yield SnapshotStore(client, moto_server.new_bucket(), "_vod-index", secret=KEY)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, IndexInfo]:
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    info = build_index(load_catalog(catalog), tmp_path / "builder-index")
    return catalog, info


def _digest(index_dir: Path) -> str | None:
    info = current_version(index_dir)
    return None if info is None else info.digest


def _keys(store: SnapshotStore) -> set[str]:
    listing = store.client.list_objects_v2(Bucket=store.bucket)
    return {o["Key"] for o in listing.get("Contents", [])}


def test_publish_then_fetch_on_another_host(
    store: SnapshotStore, built: tuple[Path, IndexInfo], tmp_path: Path
) -> None:
    catalog, info = built
    version = publish(store, info, catalog)
    assert version == info.path.name
    keys = _keys(store)
    assert store.key(LATEST) in keys
    assert store.key(version, MANIFEST) in keys
    assert store.key(version, "files", "meta.json") in keys
    assert store.key(version, "catalog", "speakers.yaml") in keys

    host = tmp_path / "host-index"
    fetched = install_snapshot(store, host)
    assert fetched.path.name == version
    assert fetched.digest == info.digest
    assert current_version(host) == fetched
    # The catalog travels with the index: same bytes, same digest, pages and search agree.
    assert load_catalog(live_catalog_path(host)).digest == info.digest
    assert SearchIndex(host).search("ada").total >= 1
    assert install_snapshot(store, host) == fetched  # already live: nothing downloaded again


def test_corrupt_snapshot_is_rejected_and_previous_keeps_serving(
    store: SnapshotStore, built: tuple[Path, IndexInfo], tmp_path: Path
) -> None:
    catalog, info = built
    publish(store, info, catalog)
    host = tmp_path / "host-index"
    first = install_snapshot(store, host)
    # A newer version whose uploaded index file was damaged in transit.
    (catalog / "extra.yaml").write_text("speakers:\n  - slug: late-addition\n")
    newer = build_index(load_catalog(catalog), tmp_path / "builder-index")
    version = publish(store, newer, catalog)
    manifest = json.loads(
        store.client.get_object(Bucket=store.bucket, Key=store.key(version, MANIFEST))[
            "Body"
        ].read()
    )
    damaged = next(e["name"] for e in manifest["files"] if e["name"].endswith(".seg"))
    store.client.put_object(Bucket=store.bucket, Key=store.key(version, damaged), Body=b"junk")
    with pytest.raises(SnapshotError, match="checksum"):
        install_snapshot(store, host)
    assert current_version(host) == first
    assert not list(host.glob(".fetching-*"))
    assert SearchIndex(host).search("ada").total >= 1


def test_partial_snapshot_without_manifest_is_rejected(
    store: SnapshotStore, built: tuple[Path, IndexInfo], tmp_path: Path
) -> None:
    catalog, info = built
    version = publish(store, info, catalog)
    store.client.delete_object(Bucket=store.bucket, Key=store.key(version, MANIFEST))
    with pytest.raises(SnapshotError):
        install_snapshot(store, tmp_path / "host-index")
    assert current_version(tmp_path / "host-index") is None


def test_manifest_cannot_write_outside_the_index(
    store: SnapshotStore, built: tuple[Path, IndexInfo], tmp_path: Path
) -> None:
    catalog, info = built
    version = publish(store, info, catalog)
    evil = {
        "format": 1,
        "version": version,
        "digest": info.digest,
        "documents": 1,
        "files": [{"name": "files/../../escaped", "size": 1, "sha256": "0"}],
    }
    body = json.dumps(evil).encode()
    store.client.put_object(Bucket=store.bucket, Key=store.key(version, MANIFEST), Body=body)
    # Signed with the key: even a manifest from the publisher cannot write outside the index.
    store.client.put_object(
        Bucket=store.bucket, Key=store.key(version, SIGNATURE), Body=sign(KEY, body).encode()
    )
    with pytest.raises(SnapshotError, match="unsafe"):
        install_snapshot(store, tmp_path / "host-index")
    assert not (tmp_path / "escaped").exists()


def test_no_snapshot_yet(store: SnapshotStore, tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot"):
        install_snapshot(store, tmp_path / "host-index")


def test_poller_picks_up_a_newer_snapshot(
    store: SnapshotStore, built: tuple[Path, IndexInfo], tmp_path: Path
) -> None:
    catalog, info = built
    publish(store, info, catalog)
    host = tmp_path / "host-index"
    install_snapshot(store, host)
    poller = SnapshotPoller(store, host, interval=0.05)
    poller.start()
    try:
        (catalog / "extra.yaml").write_text("speakers:\n  - slug: late-addition\n")
        newer = build_index(load_catalog(catalog), tmp_path / "builder-index")
        publish(store, newer, catalog)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _digest(host) != newer.digest:
            time.sleep(0.05)
        assert _digest(host) == newer.digest
    finally:
        poller.stop()


def test_cli_publish_and_serve_from_s3(
    moto_server: MotoServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    isolate_env(monkeypatch, tmp_path)
    bucket = moto_server.new_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("VOD_S3_BUCKET", bucket)
    monkeypatch.setenv("VOD_SNAPSHOT_KEY", KEY)
    result = CliRunner().invoke(
        cli.main,
        [
            "index",
            "--publish",
            "--catalog",
            str(SAMPLE_CATALOG),
            "--index-dir",
            str(tmp_path / "builder"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Published snapshot" in result.output
    # A second host: no catalog of its own, only the bucket.
    port = free_port()
    env = child_env(
        AWS_ENDPOINT_URL=moto_server.endpoint,
        VOD_S3_BUCKET=bucket,
        VOD_MEDIA_DIR=str(tmp_path / "media"),
        VOD_SNAPSHOT_KEY=KEY,
    )
    host = tmp_path / "host"
    host.mkdir()
    args = [
        __import__("sys").executable,
        "-m",
        "vod",
        "serve",
        "--index-from-s3",
        "--port",
        str(port),
        "--index-dir",
        str(host / "index"),
    ]
    base = f"http://127.0.0.1:{port}"
    with running(args, tmp_path / "host.log", base + "/healthz", cwd=host, env=env):
        with urllib.request.urlopen(base + "/api/talks?event=testconf-2024") as response:
            assert json.load(response)["total"] > 0
        with urllib.request.urlopen(base + "/healthz") as response:
            health = json.load(response)
    assert health["index"]["status"] == "ok"
    assert health["catalog"]["status"] == "ok"


# ---- signatures (issue 10, item 4) ----------------------------------------------------------

PICKLE_BOMB = b"cos\nsystem\n(S'touch {marker}'\ntR."  # runs a command when unpickled


def _forge(
    store: SnapshotStore, info: IndexInfo, catalog: Path, marker: Path, key: str | None
) -> str:
    """Publish a well-formed snapshot whose Whoosh TOC runs a command when unpickled."""
    toc = next(info.path.glob("_MAIN_*.toc"))
    toc.write_bytes(PICKLE_BOMB.replace(b"{marker}", str(marker).encode()))
    forger = SnapshotStore(store.client, store.bucket, store.prefix, secret=key or "x" * 40)
    version = publish(forger, info, catalog)
    if key is None:
        store.client.delete_object(Bucket=store.bucket, Key=store.key(version, SIGNATURE))
    return version


@pytest.mark.parametrize("forger_key", [None, "a-key-the-forger-guessed-wrongly-0123"])
def test_a_forged_snapshot_is_refused_before_anything_is_opened(
    store: SnapshotStore, built: tuple[Path, IndexInfo], tmp_path: Path, forger_key: str | None
) -> None:
    catalog, info = built
    publish(store, info, catalog)
    host = tmp_path / "host-index"
    first = install_snapshot(store, host)
    newer = build_index(load_catalog(catalog), tmp_path / "builder-index")
    marker = tmp_path / "code-ran"
    version = _forge(store, newer, catalog, marker, forger_key)
    with pytest.raises(SnapshotError, match=r"not signed|wrong signature"):
        install_snapshot(store, host)
    assert current_version(host) == first  # the previous version keeps serving
    assert not (host / version).exists()
    assert SearchIndex(host).search("ada").total >= 1
    assert not marker.exists()  # nothing of the forged snapshot was unpickled
    health = snapshot_health(host)
    assert health is not None and health["status"] == "rejected" and version in health["detail"]


def test_publishing_without_a_key_refuses(
    store: SnapshotStore, built: tuple[Path, IndexInfo]
) -> None:
    catalog, info = built
    unkeyed = SnapshotStore(store.client, store.bucket, store.prefix)
    with pytest.raises(SnapshotError, match="VOD_SNAPSHOT_KEY"):
        publish(unkeyed, info, catalog)
    assert _keys(store) == set()


def test_a_host_never_goes_back_to_an_older_snapshot(
    store: SnapshotStore, built: tuple[Path, IndexInfo], tmp_path: Path
) -> None:
    catalog, info = built
    newer = build_index(load_catalog(catalog), tmp_path / "builder-index")
    publish(store, newer, catalog)
    host = tmp_path / "host-index"
    install_snapshot(store, host)
    publish(store, info, catalog)  # LATEST now names an older (signed) version: a replay
    with pytest.raises(SnapshotError, match="older"):
        install_snapshot(store, host)
    live = current_version(host)
    assert live is not None and live.path.name == newer.path.name


def test_cli_refuses_to_publish_or_serve_snapshots_without_a_key(
    moto_server: MotoServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    isolate_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("VOD_S3_BUCKET", moto_server.new_bucket())
    for args in (["index", "--publish"], ["serve", "--index-from-s3"]):
        result = CliRunner().invoke(
            cli.main, [*args, "--catalog", str(SAMPLE_CATALOG), "--index-dir", str(tmp_path / "i")]
        )
        assert result.exit_code == 1
        assert "needs VOD_SNAPSHOT_KEY" in result.output and "Traceback" not in result.output


def test_a_host_with_no_valid_snapshot_exits_with_a_message(
    moto_server: MotoServer,  # noqa: F811
    store: SnapshotStore,
    built: tuple[Path, IndexInfo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog, info = built
    _forge(store, info, catalog, tmp_path / "code-ran", "a-key-the-forger-guessed-wrongly-0123")
    isolate_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("VOD_S3_BUCKET", store.bucket)
    monkeypatch.setenv("VOD_SNAPSHOT_KEY", KEY)
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    result = CliRunner().invoke(
        cli.main, ["serve", "--index-from-s3", "--index-dir", str(tmp_path / "host")]
    )
    assert result.exit_code == 1, result.output
    assert "wrong signature" in result.output and "no valid snapshot here" in result.output
    assert not (tmp_path / "code-ran").exists()


def test_a_host_serves_its_verified_snapshot_when_the_bucket_is_down(
    moto_server: MotoServer,  # noqa: F811
    store: SnapshotStore,
    built: tuple[Path, IndexInfo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog, info = built
    publish(store, info, catalog)
    host = tmp_path / "host"
    install_snapshot(store, host)
    isolate_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("VOD_S3_BUCKET", store.bucket)
    monkeypatch.setenv("VOD_S3_TIMEOUT", "0.5")
    monkeypatch.setenv("VOD_SNAPSHOT_KEY", KEY)
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    monkeypatch.setattr("vod.snapshots.SnapshotPoller.start", lambda self: None)
    args = ["serve", "--index-from-s3", "--index-dir", str(host)]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    assert "serving the snapshot here" in result.output
    # Another key: the snapshot here is not trusted either.
    monkeypatch.setenv("VOD_SNAPSHOT_KEY", "another-key-" + "z" * 30)
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 1 and "no valid snapshot here" in result.output
