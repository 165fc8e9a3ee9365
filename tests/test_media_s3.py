"""`vod media` and `vod upload` against a standalone moto S3 server (real HTTP, real boto3)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from clips import make_clip, make_corrupt, requires_ffmpeg
from media_catalog import key, write_catalog
from s3server import MotoServer, isolate_env, moto_server

from vod.cli import main
from vod.config import Settings
from vod.media import MANIFEST_KEY, MediaError, MediaManifest, output_keys
from vod.media import store as media_store_module
from vod.media.store import S3MediaStore, media_store
from vod.storage import S3Storage, storage_from_settings

__all__ = ["moto_server"]
pytestmark = [requires_ffmpeg, pytest.mark.s3]
PREFIX = "recordings"


@pytest.fixture
def bucket(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    isolate_env(monkeypatch, tmp_path)
    name = moto_server.new_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("VOD_S3_BUCKET", name)
    monkeypatch.setenv("VOD_S3_PREFIX", PREFIX)
    monkeypatch.setenv("VOD_CATALOG", str(write_catalog(tmp_path / "catalog").parent))
    monkeypatch.setenv("VOD_INDEX_DIR", str(tmp_path / "index"))
    return name


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("s3clip") / "talk.mp4", seconds=3)


def vod(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def objects(moto: MotoServer, bucket: str) -> dict[str, dict[str, Any]]:
    with contextlib.closing(moto.client()) as s3:
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {o["Key"]: s3.head_object(Bucket=bucket, Key=o["Key"]) for o in listed}


def read(moto: MotoServer, bucket: str, object_key: str) -> bytes:
    with contextlib.closing(moto.client()) as s3:
        body: bytes = s3.get_object(Bucket=bucket, Key=object_key)["Body"].read()
        return body


def test_upload_is_multipart_verified_and_processed(
    moto_server: MotoServer,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 5 MiB parts (S3's smallest) so a 12 MB file goes in three parts.
    monkeypatch.setattr(media_store_module, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    monkeypatch.setattr(media_store_module, "MULTIPART_CHUNKSIZE", 5 * 1024 * 1024)
    big = make_clip(tmp_path / "big.mp4", seconds=3, size="1280x720", noise=True, bitrate="30M")
    assert big.stat().st_size > 10 * 1024 * 1024
    assert "black-start" in vod("check").output
    result = vod("upload", "black-start", str(big))
    assert result.exit_code == 0, result.output
    found = objects(moto_server, bucket)
    original = found[f"{PREFIX}/{key('black-start')}"]
    assert original["ContentLength"] == big.stat().st_size
    assert original["ETag"].strip('"').endswith("-3")  # three parts, checked against ours
    assert original["ContentType"] == "video/mp4"
    keys = output_keys(key("black-start"))
    for made, mime in (
        (keys.poster, "image/jpeg"),
        (keys.sprite, "image/jpeg"),
        (keys.thumbnails, "text/vtt"),
        (keys.audio, "audio/mp4"),
    ):
        assert found[f"{PREFIX}/{made}"]["ContentType"] == mime
    manifest = MediaManifest.from_json(
        read(moto_server, bucket, f"{PREFIX}/{MANIFEST_KEY}").decode()
    )
    entry = manifest.get(key("black-start"))
    assert entry is not None and entry.source_version == original["ETag"].strip('"')
    check = json.loads(vod("check", "--json").stdout)
    assert key("black-start") not in {m["key"] for m in check["missing"]}


def test_media_on_s3_is_idempotent_and_streams_through_a_temporary_file(
    moto_server: MotoServer,
    bucket: str,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_server.upload(bucket, f"{PREFIX}/{key('quiet-talk')}", body=clip.read_bytes())
    corrupt = make_corrupt(tmp_path / "corrupt.mp4", clip)
    moto_server.upload(bucket, f"{PREFIX}/{key('broken-talk')}", body=corrupt.read_bytes())
    copies: list[Path] = []
    local_copy = S3MediaStore.local_copy

    def record(self: S3MediaStore, k: str, folder: Path, suffix: str) -> Path:
        copies.append(local_copy(self, k, folder, suffix))
        return copies[-1]

    monkeypatch.setattr(S3MediaStore, "local_copy", record)
    first = vod("media", "--jobs", "2")
    assert first.exit_code == 1  # the corrupt one
    assert f"failed: broken-talk: {key('broken-talk')}: not a readable recording" in first.output
    assert "1 processed" in first.output
    assert copies and all(not p.exists() for p in copies)  # temporary files, removed after
    before = objects(moto_server, bucket)
    assert f"{PREFIX}/{output_keys(key('quiet-talk')).audio}" in before
    copies.clear()
    second = vod("media", "--talk", "quiet-talk")
    assert second.exit_code == 0 and "0 processed, 1 unchanged (skipped)" in second.output
    assert copies == []  # nothing downloaded: the ETag and size said it is unchanged
    after = objects(moto_server, bucket)
    assert {k: v["ETag"] for k, v in after.items()} == {k: v["ETag"] for k, v in before.items()}


def test_verify_catches_a_different_object(bucket: str, clip: Path, tmp_path: Path) -> None:
    storage = storage_from_settings(Settings.from_env())
    assert isinstance(storage, S3Storage)
    store = media_store(storage)
    store.publish(clip, "mediaconf/x.mp4", "video/mp4")
    store.verify("mediaconf/x.mp4", clip)
    other = make_clip(tmp_path / "other.mp4", seconds=2)
    with pytest.raises(MediaError, match="should give"):
        store.verify("mediaconf/x.mp4", other)


def test_a_large_catalog_lists_the_bucket_instead_of_a_head_per_talk(
    moto_server: MotoServer,
    bucket: str,
    clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_server.upload(bucket, f"{PREFIX}/{key('quiet-talk')}", body=clip.read_bytes())
    assert vod("media", "--talk", "quiet-talk").exit_code == 0
    monkeypatch.setattr(media_store_module, "LIST_ABOVE", 0)
    heads: list[str] = []

    def no_head(self: S3MediaStore, k: str) -> None:
        heads.append(k)
        raise AssertionError("a HEAD per recording")

    monkeypatch.setattr(S3MediaStore, "stat", no_head)
    result = vod("media")
    assert heads == []
    assert "0 processed, 1 unchanged (skipped), 4 not in the store, 1 external" in result.output


def test_pages_and_podcasts_link_s3_media(
    moto_server: MotoServer, bucket: str, clip: Path, tmp_path: Path
) -> None:
    from starlette.testclient import TestClient

    from vod.web.app import create_app

    assert vod("upload", "black-start", str(clip)).exit_code == 0
    cdn = "https://cdn.example.org"
    settings = Settings.from_env().replace(index_dir=tmp_path / "site-index")
    with TestClient(create_app(settings.replace(media_url=cdn))) as client:
        body = client.get("/api/talks/black-start").json()
        assert body["poster"] == f"{cdn}/{PREFIX}/mediaconf/black-start.poster.jpg"
        assert [d["url"] for d in body["downloads"]] == [
            f"{cdn}/{PREFIX}/mediaconf/black-start.mp4",
            f"{cdn}/{PREFIX}/mediaconf/black-start.audio.m4a",
        ]
        podcast = client.get("/events/mediaconf/podcast.xml").text
        assert f'url="{cdn}/{PREFIX}/mediaconf/black-start.audio.m4a"' in podcast
    with TestClient(create_app(settings)) as client:  # presigned: links that expire
        body = client.get("/api/talks/black-start").json()
        assert all("X-Amz-Signature=" in d["url"] for d in body["downloads"])
        html = client.get("/talks/black-start").text
        assert 'poster="http://127.0.0.1' in html and "X-Amz-Signature=" in html
        assert "<item>" not in client.get("/events/mediaconf/podcast.xml").text
