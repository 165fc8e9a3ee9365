"""The Host header is not trusted (issue #10, item 7): no poisoned links, no poisoned caches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from vod.config import Settings
from vod.web.app import create_app
from vod.web.middleware import host_allowed, is_loopback

SNOWFLAKE = "training-arctic-at-snowflake"
BASE = "https://talks.example.org"
# Every kind of response that carries absolute URLs.
URL_PAGES = [
    "/",
    f"/talks/{SNOWFLAKE}",
    f"/embed/{SNOWFLAKE}",
    "/feed.xml",
    "/events/systems-scale-2024/feed.xml",
    "/sitemap.xml",
    f"/oembed?url={BASE}/talks/{SNOWFLAKE}",
    "/api/talks",
    f"/api/talks/{SNOWFLAKE}",
    "/search?q=training",
    "/api/search?q=training",
]


@pytest.fixture(scope="module")
def based(settings: Settings) -> Iterator[TestClient]:
    app = create_app(
        settings.replace(base_url=BASE, allowed_hosts=("internal.example", "*.cdn.example"))
    )
    with TestClient(app, base_url=BASE) as client:
        yield client


@pytest.mark.parametrize("path", URL_PAGES)
def test_with_a_base_url_another_host_gets_400(based: TestClient, path: str) -> None:
    response = based.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.text


@pytest.mark.parametrize("host", ["talks.example.org", "internal.example", "edge1.cdn.example"])
def test_allowed_hosts_get_pages_whose_urls_use_the_base_url(based: TestClient, host: str) -> None:
    page = based.get(f"/talks/{SNOWFLAKE}", headers={"Host": host})
    assert page.status_code == 200
    assert f'<link rel="canonical" href="{BASE}/talks/{SNOWFLAKE}"' in page.text
    api = based.get(f"/api/talks/{SNOWFLAKE}", headers={"Host": host}).json()
    assert api["url"] == f"{BASE}/talks/{SNOWFLAKE}"


def test_redirects_use_the_base_url(based: TestClient) -> None:
    response = based.get(
        f"/talks/{SNOWFLAKE}/", headers={"Host": "internal.example"}, follow_redirects=False
    )
    assert response.status_code in (301, 307, 308)
    assert response.headers["location"].startswith(f"{BASE}/")


def test_a_load_balancer_may_probe_healthz_by_address(based: TestClient) -> None:
    assert based.get("/healthz", headers={"Host": "10.1.2.3:8000"}).status_code == 200


@pytest.mark.parametrize("path", URL_PAGES)
def test_without_a_base_url_host_built_pages_are_not_publicly_cacheable(
    client: TestClient, path: str
) -> None:
    response = client.get(
        path.replace(BASE, "http://evil.example"), headers={"Host": "evil.example"}
    )
    assert response.status_code == 200
    cache = response.headers.get("cache-control", "")
    assert "public" not in cache, f"{path}: {cache}"


def test_static_files_stay_public_without_a_base_url(client: TestClient) -> None:
    response = client.get("/static/placeholder.mp4", headers={"Range": "bytes=0-10"})
    assert "private" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("Talks.Example.org:443", ("talks.example.org",), True),
        ("talks.example.org.evil.example", ("talks.example.org",), False),
        ("a.cdn.example", ("*.cdn.example",), True),
        ("cdn.example", ("*.cdn.example",), False),
        ("evilcdn.example", ("*.cdn.example",), False),
        ("[::1]:8000", ("::1",), True),
        ("", ("talks.example.org",), False),
    ],
)
def test_host_matching(host: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert host_allowed(host, allowed) is ok


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("::", False)],
)
def test_loopback_binds(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
