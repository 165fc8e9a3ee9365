"""Rendered talk pages are kept while nothing they depend on changes, and only then."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from vod import pages
from vod.config import Settings
from vod.storage import Recordings
from vod.web.app import create_app

SNOWFLAKE = "/talks/training-arctic-at-snowflake"


@pytest.fixture
def app_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as client:
        yield client


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = pages.talk_page

    def counting(*args: Any, **kwargs: Any) -> Any:
        page = original(*args, **kwargs)
        calls.append(page.card.talk.slug)
        return page

    monkeypatch.setattr(pages, "talk_page", counting)
    return calls


def test_second_view_is_served_from_the_kept_page(
    app_client: TestClient, renders: list[str]
) -> None:
    first = app_client.get(SNOWFLAKE)
    second = app_client.get(SNOWFLAKE)
    assert renders == ["training-arctic-at-snowflake"]
    assert second.text == first.text
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == first.headers["cache-control"]
    assert second.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in second.headers["content-security-policy"]


def test_kept_pages_answer_gzip_plain_and_conditional_requests(
    app_client: TestClient, renders: list[str]
) -> None:
    first = app_client.get(SNOWFLAKE, headers={"Accept-Encoding": "identity"})
    zipped = app_client.get(SNOWFLAKE, headers={"Accept-Encoding": "gzip"}).headers
    raw = app_client.get(SNOWFLAKE, headers={"Accept-Encoding": "gzip"})
    plain = app_client.get(SNOWFLAKE, headers={"Accept-Encoding": "identity"})
    assert renders == ["training-arctic-at-snowflake"]
    assert zipped["content-encoding"] == "gzip" and "accept-encoding" in zipped["vary"].lower()
    assert raw.text == plain.text == first.text  # the client decompresses the kept bytes
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == zipped["etag"] == first.headers["etag"]
    again = app_client.get(SNOWFLAKE, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert renders == ["training-arctic-at-snowflake"]


def test_each_moment_is_its_own_page(app_client: TestClient, renders: list[str]) -> None:
    plain = app_client.get(SNOWFLAKE).text
    at_90 = app_client.get(SNOWFLAKE + "?t=90").text
    assert app_client.get(SNOWFLAKE + "?t=1m30s").text == at_90  # same moment, same page
    assert len(renders) == 2
    assert plain != at_90


def test_a_recording_that_arrives_replaces_the_placeholder(
    app_client: TestClient, make_settings: Callable[..., Settings]
) -> None:
    assert "Placeholder:" in app_client.get(SNOWFLAKE).text
    media: Path = make_settings().media_dir
    target = media / "systems-scale-2024" / "training-arctic-at-snowflake.mp4"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x00" * 64)
    app_client.app_state["vod"].recordings._known.clear()  # the store's answer is not cached
    page = app_client.get(SNOWFLAKE).text
    assert "Placeholder:" not in page
    assert "/media/systems-scale-2024/training-arctic-at-snowflake.mp4" in page


class _SignedStore:
    """A store whose URLs change on every call, like S3's presigned ones."""

    kind = "s3"
    stable_urls = False

    def __init__(self) -> None:
        self.n = 0

    def exists(self, key: str) -> bool:
        return True

    def url_for(self, key: str) -> str:
        self.n += 1
        return f"https://bucket.example/{key}?sig={self.n}"

    def read_text(self, key: str, limit: int = 0) -> str:
        raise FileNotFoundError(key)

    def describe(self) -> str:
        return "signed"


def test_pages_with_expiring_urls_are_never_kept(
    app_client: TestClient, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_client.app_state["vod"], "recordings", Recordings(_SignedStore()))
    first = app_client.get(SNOWFLAKE).text
    second = app_client.get(SNOWFLAKE).text
    assert len(renders) == 2
    assert "sig=" in first and first != second
