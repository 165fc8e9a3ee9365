"""Storage.read_text: captions read at index time from a local folder or S3 (issue #3)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLE_CATALOG
from s3server import MotoServer, closed_endpoint, isolate_env, moto_server

from vod.catalog import load_catalog
from vod.errors import StorageUnavailable
from vod.index import SearchIndex, build_index
from vod.storage import LocalStorage, S3Storage

__all__ = ["moto_server"]

VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nThe flamingo is in S3.\n"
KEY = "testconf-2023/continuous-deployment.en.vtt"


def test_local_read_text(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "c.vtt").write_text(VTT)
    (tmp_path / "a" / "big.vtt").write_text("x" * 101)
    (tmp_path / "a" / "bin.vtt").write_bytes(b"\xff\xfe\x00")
    store = LocalStorage(tmp_path)
    assert store.read_text("a/c.vtt", 1000) == VTT
    assert store.read_text("a/missing.vtt", 1000) is None
    assert store.read_text("../outside.vtt", 1000) is None
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        store.read_text("a/big.vtt", 100)
    with pytest.raises(ValueError, match="not UTF-8"):
        store.read_text("a/bin.vtt", 100)


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_env(monkeypatch, tmp_path)


@contextlib.contextmanager
def s3(bucket: str, endpoint: str, timeout: float = 5.0) -> Iterator[S3Storage]:
    store = S3Storage(bucket, "pre", timeout=timeout, endpoint_url=endpoint)
    try:
        yield store
    finally:
        store.client.close()


@pytest.mark.s3
def test_s3_read_text_and_a_build_that_indexes_it(
    s3_env: None, moto_server: MotoServer, tmp_path: Path
) -> None:
    bucket = moto_server.new_bucket()
    moto_server.upload(bucket, f"pre/{KEY}", body=VTT.encode())
    moto_server.upload(bucket, "pre/empty.vtt", body=b"")
    moto_server.upload(bucket, "pre/big.vtt", body=b"x" * 200)
    with s3(bucket, moto_server.endpoint) as store:
        assert store.read_text(KEY, 1000) == VTT
        assert store.read_text("missing.vtt", 1000) is None
        assert store.read_text("empty.vtt", 1000) == ""
        with pytest.raises(ValueError, match="larger than 100 bytes"):
            store.read_text("big.vtt", 100)
        build_index(load_catalog(SAMPLE_CATALOG), tmp_path, storage=store)
    [hit] = SearchIndex(tmp_path).search("flamingo").hits
    assert hit.moment is not None and hit.moment.start == 1


@pytest.mark.s3
def test_s3_down_is_storage_unavailable(s3_env: None) -> None:
    with s3("bucket", closed_endpoint(), timeout=0.5) as store, pytest.raises(StorageUnavailable):
        store.read_text(KEY, 1000)
