"""S3Storage against a standalone moto S3 server on 127.0.0.1, reached over HTTP.

Never moto's in-process mock: the client, its timeouts and presigned URLs meet a real socket.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from s3server import (
    PLACEHOLDER,
    MotoServer,
    closed_endpoint,
    isolate_env,
    moto_server,
    requests_sent,
)
from starlette.testclient import TestClient

from vod.config import Settings
from vod.errors import ConfigError, StorageUnavailable
from vod.storage import LocalStorage, Recordings, S3Storage, storage_from_settings
from vod.web.app import create_app

pytestmark = pytest.mark.s3

__all__ = ["moto_server"]  # the shared session fixture, imported to be found here

SLUG = "training-arctic-at-snowflake"
KEY = f"systems-scale-2024/{SLUG}.mp4"
SOURCE_RE = re.compile(r'<source src="([^"]+)"')


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_env(monkeypatch, tmp_path)


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    return moto_server.new_bucket()


@contextlib.contextmanager
def s3_storage(*args: Any, **kwargs: Any) -> Iterator[S3Storage]:
    """An S3Storage whose client (and its pooled sockets) is closed afterwards."""
    store = S3Storage(*args, **kwargs)
    try:
        yield store
    finally:
        store.client.close()


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def test_exists_true_and_false(moto_server: MotoServer, bucket: str) -> None:
    moto_server.upload(bucket, KEY)
    with s3_storage(bucket, endpoint_url=moto_server.endpoint) as store:
        assert store.kind == "s3"
        assert store.exists(KEY)
        assert not store.exists("systems-scale-2024/absent.mp4")
        assert not store.exists(KEY.upper())
        assert store.describe() == f"s3://{bucket} at {moto_server.endpoint}"


def test_missing_bucket_reads_as_missing_keys(moto_server: MotoServer) -> None:
    # HEAD has no body, so a missing bucket and a missing key both answer a bare 404.
    with s3_storage("vod-test-no-such-bucket", endpoint_url=moto_server.endpoint) as store:
        assert not store.exists(KEY)


@pytest.mark.parametrize("prefix", ["recordings/2024", "/recordings/2024/", "recordings/2024/"])
def test_prefix(moto_server: MotoServer, bucket: str, prefix: str) -> None:
    moto_server.upload(bucket, f"recordings/2024/{KEY}", "unprefixed.mp4")
    with s3_storage(bucket, prefix, endpoint_url=moto_server.endpoint) as store:
        assert store.prefix == "recordings/2024"
        assert store.object_key(KEY) == f"recordings/2024/{KEY}"
        assert store.exists(KEY)
        assert not store.exists("unprefixed.mp4")
        assert store.describe() == f"s3://{bucket}/recordings/2024 at {moto_server.endpoint}"
        assert f"/{bucket}/recordings/2024/{KEY}?" in store.url_for(KEY)


def test_prefix_from_env(
    moto_server: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.upload(bucket, f"vod/{KEY}")
    monkeypatch.setenv("VOD_S3_BUCKET", bucket)
    monkeypatch.setenv("VOD_S3_PREFIX", "/vod/")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    store = storage_from_settings(Settings.from_env())
    assert isinstance(store, S3Storage)
    try:
        assert store.object_key(KEY) == f"vod/{KEY}"
        assert store.exists(KEY)
        assert not store.exists("other.mp4")
    finally:
        store.client.close()


def test_presigned_url_serves_byte_ranges(moto_server: MotoServer, bucket: str) -> None:
    moto_server.upload(bucket, KEY)
    body = PLACEHOLDER.read_bytes()
    with s3_storage(bucket, endpoint_url=moto_server.endpoint, expiry=600) as store:
        url = store.url_for(KEY)
    assert url.startswith(f"{moto_server.endpoint}/{bucket}/{KEY}?")
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=600" in url
    status, headers, data = fetch(url, Range="bytes=0-99")
    assert status == 206
    assert data == body[:100]
    assert len(data) == 100
    assert headers["Content-Range"] == f"bytes 0-99/{len(body)}"
    status, _, data = fetch(url, Range="bytes=1000-1099")
    assert (status, data) == (206, body[1000:1100])


@pytest.mark.parametrize(
    ("env", "value"), [("AWS_ENDPOINT_URL", "not-a-url"), ("AWS_DEFAULT_REGION", "no such region!")]
)
def test_bad_client_settings_are_config_errors(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str
) -> None:
    # Regression: boto3's ValueError escaped as a traceback from `vod check` and app startup.
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match="cannot set up the S3 client"):
        S3Storage("vod-recordings")


def test_url_for_makes_no_network_call() -> None:
    with s3_storage("vod-recordings", endpoint_url=closed_endpoint(), timeout=0.5) as store:
        sent = requests_sent(store.client)
        url = store.url_for(KEY)
    assert sent == []
    assert "X-Amz-Signature=" in url


def test_storage_from_settings_picks_s3(
    moto_server: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    moto_server.upload(bucket, KEY)
    store = storage_from_settings(
        Settings(media_dir=tmp_path, s3_bucket=bucket, s3_timeout=0.5, presign_expiry=120)
    )
    assert isinstance(store, S3Storage)
    try:
        assert store.bucket == bucket
        assert store.expiry == 120
        assert store.client.meta.endpoint_url == moto_server.endpoint
        assert store.exists(KEY)
    finally:
        store.client.close()
    assert isinstance(storage_from_settings(Settings(media_dir=tmp_path)), LocalStorage)


# ---- S3 down ---------------------------------------------------------------------------------


def test_s3_down_exists_raises_promptly() -> None:
    with s3_storage("vod-recordings", endpoint_url=closed_endpoint(), timeout=0.5) as store:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="unreachable"):
            store.exists(KEY)
        # A safety bound against hanging on boto3's default retries, not a performance test.
        assert time.monotonic() - started < 10


def test_s3_down_recordings_back_off() -> None:
    with s3_storage("vod-recordings", endpoint_url=closed_endpoint(), timeout=0.5) as store:
        recordings = Recordings(store)
        with pytest.raises(StorageUnavailable):
            recordings.exists(KEY)
        sent = requests_sent(store.client)
        with pytest.raises(StorageUnavailable, match="unreachable"):
            recordings.exists("systems-scale-2024/other.mp4")
        assert sent == []  # answered from the backoff, no new attempt
        health = recordings.health()
    assert health["kind"] == "s3"
    assert health["status"] == "degraded"
    assert "unreachable" in health["detail"]


def _settings(base: Settings, tmp_path: Path, bucket: str) -> Settings:
    return base.replace(media_dir=tmp_path / "media", s3_bucket=bucket, s3_timeout=0.5)


@contextlib.contextmanager
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        try:
            yield client
        finally:
            # The app never closes its S3 client; close it so no socket is left to the GC.
            client.app_state["vod"].recordings.storage.client.close()


def test_talk_page_when_s3_is_down(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_endpoint())
    with app_client(_settings(settings, tmp_path, "vod-recordings")) as client:
        assert client.get("/healthz").json()["storage"]["status"] == "ok"  # nothing asked yet
        started = time.monotonic()
        page = client.get(f"/talks/{SLUG}")
        assert time.monotonic() - started < 10
        assert page.status_code == 200
        assert "temporarily unavailable" in page.text
        assert "<video" not in page.text
        assert "placeholder-note" not in page.text
        api = client.get(f"/api/talks/{SLUG}").json()
        assert api["recording"]["status"] == "unavailable"
        assert api["recording"]["src"] is None
        health = client.get("/healthz")
        assert health.status_code == 200  # degraded storage keeps the site in rotation
        body = health.json()
        assert body["storage"]["kind"] == "s3"
        assert body["storage"]["status"] == "degraded"
        assert "unreachable" in body["storage"]["detail"]
        assert body["status"] == "degraded"
        assert client.get("/").status_code == 200  # pages without a player are unaffected


@pytest.fixture
def uploaded(moto_server: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A bucket with the Snowflake talk's recording, which the app reaches through the env."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    moto_server.upload(bucket, KEY)
    return bucket


def test_talk_page_when_s3_is_up(
    settings: Settings, tmp_path: Path, moto_server: MotoServer, uploaded: str
) -> None:
    bucket = uploaded
    with app_client(_settings(settings, tmp_path, bucket)) as client:
        page = client.get(f"/talks/{SLUG}")
        assert page.status_code == 200
        match = SOURCE_RE.search(page.text)
        assert match, page.text
        src = html.unescape(match.group(1))
        assert src.startswith(f"{moto_server.endpoint}/{bucket}/{KEY}?")
        assert "X-Amz-Signature=" in src
        assert "placeholder-note" not in page.text
        assert "temporarily unavailable" not in page.text

        api = client.get(f"/api/talks/{SLUG}").json()
        assert api["recording"]["status"] == "ok"
        assert api["recording"]["placeholder"] is False
        assert api["recording"]["src"].startswith(f"{moto_server.endpoint}/{bucket}/{KEY}?")

        # A talk whose recording is not uploaded still gets the placeholder.
        other = client.get("/api/talks/systems-scale-2024-keynote").json()
        assert other["recording"]["status"] == "placeholder"
        assert client.get("/healthz").json()["storage"] == {
            "kind": "s3",
            "status": "ok",
            "detail": None,
        }
    status, _, data = fetch(src, Range="bytes=0-99")
    assert (status, data) == (206, PLACEHOLDER.read_bytes()[:100])


def test_a_public_media_url_gives_stable_kept_published_links(
    settings: Settings,
    tmp_path: Path,
    moto_server: MotoServer,
    uploaded: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import feedparser

    from vod import pages

    bucket = uploaded
    with contextlib.closing(moto_server.client()) as s3:  # what a CDN's origin access allows
        s3.put_object_acl(Bucket=bucket, Key=KEY, ACL="public-read")
    public = f"{moto_server.endpoint}/{bucket}"  # the bucket's address stands in for a CDN
    renders: list[str] = []
    real_talk_page = pages.talk_page

    def counting(*args: Any, **kwargs: Any) -> Any:
        page = real_talk_page(*args, **kwargs)
        renders.append(page.card.talk.slug)
        return page

    monkeypatch.setattr(pages, "talk_page", counting)
    with app_client(_settings(settings, tmp_path, bucket).replace(media_url=public)) as client:
        first = client.get(f"/talks/{SLUG}").text
        second = client.get(f"/talks/{SLUG}").text
        match = SOURCE_RE.search(first)
        assert match, first
        src = html.unescape(match.group(1))
        assert src == f"{public}/{KEY}"  # no signature, no expiry
        assert second == first and renders == [SLUG]  # so the page is kept like a local one
        ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', first, re.S)
        assert ld and json.loads(ld.group(1))["contentUrl"] == src  # published in JSON-LD...
        feed = feedparser.parse(client.get("/feed.xml").content)
        enclosures = [e.href for entry in feed.entries for e in entry.enclosures]
        assert src in enclosures  # ...and its feed enclosure
        # A recording not uploaded yet still plays the placeholder, and is not published.
        other = client.get("/api/talks/systems-scale-2024-keynote").json()
        assert other["recording"]["status"] == "placeholder"
        assert not any("keynote" in href for href in enclosures)
    status, _, data = fetch(src, Range="bytes=0-99")
    assert (status, data) == (206, PLACEHOLDER.read_bytes()[:100])


def test_media_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="VOD_MEDIA_URL must be an http"):
        Settings.from_env({"VOD_MEDIA_URL": "javascript:alert(1)"})
    url = Settings.from_env({"VOD_MEDIA_URL": "https://cdn.example.org/v/"}).media_url
    assert url == "https://cdn.example.org/v"


@pytest.mark.parametrize(
    "path",
    [
        f"/talks/{SLUG}",
        f"/embed/{SLUG}",
        f"/api/talks/{SLUG}",
        "/feed.xml",
        "/events/systems-scale-2024/feed.xml",
        "/sitemap.xml",
        f"/oembed?url=http://testserver/talks/{SLUG}",
    ],
)
def test_cdn_mode_survives_a_store_that_is_down(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # VOD_MEDIA_URL set, the bucket unreachable (issue #10, item 6): within the same bounds as
    # the presigned mode, and nothing is published that could not be checked.
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_endpoint())
    cdn = _settings(settings, tmp_path, "vod-recordings").replace(
        media_url="https://cdn.example.org"
    )
    with app_client(cdn) as client:
        for _ in range(2):  # a cold cache, then during the backoff
            started = time.monotonic()
            response = client.get(path)
            assert response.status_code == 200, response.text[:500]
            assert time.monotonic() - started < 10
            assert "https://cdn.example.org/" not in response.text
        if not path.startswith("/oembed"):  # oEmbed asks no store
            assert client.get("/healthz").json()["storage"]["status"] == "degraded"


def test_a_cold_sitemap_lists_the_bucket_instead_of_one_head_per_talk(
    settings: Settings,
    tmp_path: Path,
    moto_server: MotoServer,
    uploaded: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heads: list[str] = []
    real_exists = S3Storage.exists

    def counting(self: S3Storage, key: str) -> bool:
        heads.append(key)
        return real_exists(self, key)

    monkeypatch.setattr(S3Storage, "exists", counting)
    cdn = _settings(settings, tmp_path, uploaded).replace(media_url="https://cdn.example.org")
    with app_client(cdn) as client:
        sitemap = client.get("/sitemap.xml")
        assert sitemap.status_code == 200
        assert f"https://cdn.example.org/{KEY}" in sitemap.text  # the uploaded one is published
        assert "systems-scale-2024-keynote.mp4" not in sitemap.text  # the missing one is not
        assert heads == []  # answered by one listing
        feed = client.get("/feed.xml")
        assert f"https://cdn.example.org/{KEY}" in feed.text
        assert heads == []


def test_list_keys_strips_the_prefix(moto_server: MotoServer, bucket: str) -> None:
    moto_server.upload(bucket, f"recordings/{KEY}")
    moto_server.upload(bucket, "elsewhere/other.mp4")
    with s3_storage(bucket, "recordings", endpoint_url=moto_server.endpoint) as store:
        assert store.list_keys() == {KEY}
