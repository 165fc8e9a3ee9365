"""Rendered talk and search pages are kept while nothing they depend on changes, and only then."""

from __future__ import annotations

import dataclasses
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


@pytest.fixture
def compressed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of each body gzip.compress is given (how kept pages are compressed)."""
    import gzip as gzip_module

    calls: list[int] = []
    real = gzip_module.compress

    def counting(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(gzip_module, "compress", counting)
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


@pytest.mark.parametrize("path", [SNOWFLAKE, "/search?q=arctic+training"])
def test_a_page_asked_without_gzip_is_kept_when_asked_again_and_compressed_then(
    app_client: TestClient, compressed: list[int], path: str
) -> None:
    state = app_client.app_state["vod"]
    for kept in (state.rendered, state.searched):  # lately, distinct pages: none came back
        for n in range(100):
            kept.first_sight.sighted(("another page", n))
    plain = {"Accept-Encoding": "identity"}
    first = app_client.get(path, headers=plain)
    assert first.status_code == 200 and "content-encoding" not in first.headers
    assert compressed == []  # nobody asked for the compressed bytes yet
    # Its first answer carries what the kept page's answers carry.
    assert "accept-encoding" in first.headers["vary"].lower()
    # Once: the gzip middleware adds it to every answer it passes, this one's too.
    assert first.headers.get_list("vary") == ["Accept-Encoding"]
    unchanged = app_client.get(path, headers={**plain, "If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert len(compressed) == 1  # asked again: kept (and compressed once)
    zipped = app_client.get(path, headers={"Accept-Encoding": "gzip"})
    again = app_client.get(path, headers=plain)
    assert zipped.headers["content-encoding"] == "gzip"
    assert first.text == zipped.text == again.text
    assert first.headers["etag"] == zipped.headers["etag"] == again.headers["etag"]
    assert first.headers["cache-control"] == again.headers["cache-control"]
    assert len(compressed) == 1


def test_while_pages_come_back_a_first_view_without_gzip_is_kept_at_once(
    app_client: TestClient, renders: list[str]
) -> None:
    plain = {"Accept-Encoding": "identity"}
    first = app_client.get(SNOWFLAKE, headers=plain)  # nothing known yet: kept
    assert app_client.get(SNOWFLAKE, headers=plain).text == first.text
    assert renders == ["training-arctic-at-snowflake"]
    seen = app_client.app_state["vod"].rendered.first_sight
    for n in range(100):  # then pages that come back: a third of them, asked twice
        seen.sighted(("a page", n))
        if n % 3 == 0:
            seen.sighted(("a page", n))
    assert seen.returns_often()
    moment = SNOWFLAKE + "?t=60"
    assert app_client.get(moment, headers=plain).status_code == 200
    assert app_client.get(moment, headers=plain).status_code == 200
    assert renders == ["training-arctic-at-snowflake"] * 2  # the moment's page, kept at once


@pytest.mark.parametrize("path", [SNOWFLAKE, "/search?q=arctic+training"])
def test_the_first_view_is_compressed_once_and_answers_as_the_kept_page_will(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch, compressed: list[int], path: str
) -> None:
    import zlib

    streamed: list[int] = []
    real_obj = zlib.compressobj  # what Starlette's gzip middleware compresses with

    def counting_obj(*args: Any, **kwargs: Any) -> Any:
        streamed.append(1)
        return real_obj(*args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", counting_obj)
    first = app_client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert len(compressed) == 1 and streamed == []  # kept once, not again by the middleware
    second = app_client.get(path, headers={"Accept-Encoding": "gzip"})
    plain = app_client.get(path, headers={"Accept-Encoding": "identity"})
    assert first.text == second.text == plain.text
    assert first.headers["etag"] == second.headers["etag"] == plain.headers["etag"]
    assert first.headers["cache-control"] == plain.headers["cache-control"]
    assert "frame-ancestors 'none'" in first.headers["content-security-policy"]
    assert len(compressed) == 1


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


# ---- search pages -------------------------------------------------------------------------


def test_the_same_search_is_answered_from_the_kept_page(
    app_client: TestClient, searches: list[str]
) -> None:
    first = app_client.get("/search?q=rasley", headers={"Accept-Encoding": "identity"})
    zipped = app_client.get("/search?q=rasley", headers={"Accept-Encoding": "gzip"})
    assert searches == ["rasley"]
    assert first.status_code == zipped.status_code == 200
    assert zipped.text == first.text and zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == first.headers["etag"]
    assert zipped.headers["cache-control"] == first.headers["cache-control"]
    again = app_client.get("/search?q=rasley", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    # Another query, page, filter or sort is another page.
    for url in ("/search?q=snowflake", "/search?q=rasley&page=2", "/search?q=rasley&sort=newest"):
        assert app_client.get(url).status_code in (200, 400)
    assert searches == ["rasley", "snowflake", "rasley", "rasley"]


def test_failed_and_cut_short_searches_are_not_kept(
    app_client: TestClient, searches: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert app_client.get("/search?q=%00").status_code == 400
    assert app_client.get("/search?q=%00").status_code == 400
    assert searches == ["\x00", "\x00"]
    index = app_client.app_state["vod"].search
    original = index.search

    def cut_short(*args: Any, **kwargs: Any) -> Any:
        results = original(*args, **kwargs)
        return dataclasses.replace(results, partial=True)

    monkeypatch.setattr(index, "search", cut_short)
    for _ in range(2):
        assert "may be incomplete" in app_client.get("/search?q=snowflake").text
    assert searches[2:] == ["snowflake", "snowflake"]


def test_search_pages_are_kept_per_index_version(
    app_client: TestClient, searches: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app_client.get("/search?q=rasley")
    app_client.get("/search?q=rasley")
    index = app_client.app_state["vod"].search
    info = index.info
    moved = dataclasses.replace(info, path=info.path.with_name(info.path.name + "-next"))
    monkeypatch.setattr(type(index), "info", property(lambda self: moved))
    app_client.get("/search?q=rasley")
    assert searches == ["rasley", "rasley"]


def test_search_pages_with_expiring_urls_are_never_kept(
    app_client: TestClient, searches: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_client.app_state["vod"], "recordings", Recordings(_SignedStore()))
    app_client.get("/search?q=rasley")
    app_client.get("/search?q=rasley")
    assert searches == ["rasley", "rasley"]
