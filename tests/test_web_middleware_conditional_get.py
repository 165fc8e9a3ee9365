"""Conditional GET: ETags on pages and API answers, 304 when they match."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

PATHS = [
    "/",
    "/events/systems-scale-2024",
    "/talks/training-arctic-at-snowflake",
    "/speakers/jeff-rasley",
    "/search?q=snowflake",
    "/api/talks",
    "/api/talks/training-arctic-at-snowflake",
    "/api/search?q=snowflake",
]


@pytest.mark.parametrize("path", PATHS)
def test_etag_and_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert "max-age" in first.headers["cache-control"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    # A 304 keeps the headers a cache needs, and the security headers.
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert "frame-ancestors 'none'" in again.headers["content-security-policy"]


@pytest.mark.parametrize("path", PATHS[:3])
def test_stale_etag_gets_the_page(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"If-None-Match": 'W/"0000", "1111"'})
    assert response.status_code == 200
    assert response.content


def test_etag_matches_in_a_list_and_star(client: TestClient) -> None:
    etag = client.get("/").headers["etag"]
    assert client.get("/", headers={"If-None-Match": f'"x", {etag}'}).status_code == 304
    assert client.get("/", headers={"If-None-Match": etag.removeprefix("W/")}).status_code == 304
    assert client.get("/", headers={"If-None-Match": "*"}).status_code == 304


def test_same_etag_with_and_without_gzip(client: TestClient) -> None:
    plain = client.get("/events/systems-scale-2024", headers={"Accept-Encoding": "identity"})
    packed = client.get("/events/systems-scale-2024", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == packed.headers["etag"]


@pytest.mark.parametrize("path", ["/talks/no-such-talk", "/healthz", "/search?q=("])
def test_no_etag_on_errors_and_uncacheable_answers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert "etag" not in response.headers


def test_head_has_the_etag(client: TestClient) -> None:
    get = client.get("/talks/training-arctic-at-snowflake")
    head = client.head("/talks/training-arctic-at-snowflake")
    assert head.status_code == 200
    assert head.headers["etag"] == get.headers["etag"]
    assert head.content == b""


def test_static_files_keep_their_own_validators(client: TestClient) -> None:
    first = client.get("/static/vod.css")
    etag = first.headers["etag"]
    assert not etag.startswith("W/")
    assert client.get("/static/vod.css", headers={"If-None-Match": etag}).status_code == 304
