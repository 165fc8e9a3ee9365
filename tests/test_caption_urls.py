"""Caption tracks given as http(s) URLs are fetched when the index is built, over real HTTP."""

from __future__ import annotations

import http.server
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import DATA, SAMPLE_CATALOG
from s3server import free_port, http_server

from vod import outbound as fetch_module
from vod.catalog import load_catalog
from vod.index import SearchIndex, build_index

VTT = DATA / "store" / "testconf-2023" / "continuous-deployment.en.vtt"
DEPLOY = "continuous-deployment-for-imaginary-services"
KEY_LINE = "src: testconf-2023/continuous-deployment.en.vtt"


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        if self.path == "/en.vtt":
            body = VTT.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/vtt")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/moved.vtt":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/etc/passwd")  # urllib would follow
            self.end_headers()
        elif self.path == "/huge.vtt":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"WEBVTT\n\n" + b"x" * 3_000_000)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def caption_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # The test server is on 127.0.0.1: an intranet host this deployment allows (issue #10).
    monkeypatch.setenv("VOD_FETCH_ALLOW", "127.0.0.1")
    _Handler.hits = []
    with http_server(_Handler) as base:
        yield base


def catalog_with_caption(tmp_path: Path, src: str) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, folder)
    event = folder / "testconf-2023.yaml"
    text = event.read_text()
    assert KEY_LINE in text
    event.write_text(text.replace(KEY_LINE, f"src: {src}"))
    return folder


def build(tmp_path: Path, catalog: Path) -> SearchIndex:
    build_index(load_catalog(catalog), tmp_path / "index")
    return SearchIndex(tmp_path / "index")


def test_a_caption_url_is_fetched_and_searchable(tmp_path: Path, caption_site: str) -> None:
    index = build(tmp_path, catalog_with_caption(tmp_path, f"{caption_site}/en.vtt"))
    hits = index.search("flamingo").hits
    assert [h.slug for h in hits] == [DEPLOY]
    assert hits[0].moment is not None and hits[0].moment.start == 9  # the cue that said it
    assert index.transcript(DEPLOY)[0].text
    assert _Handler.hits == ["/en.vtt"]


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/gone.vtt", "not found"),
        ("/moved.vtt", "redirected outside http(s)"),
        ("/huge.vtt", "larger than"),
    ],
)
def test_a_caption_url_that_cannot_be_read_is_skipped(
    tmp_path: Path, caption_site: str, path: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vod.index.build"):
        index = build(tmp_path, catalog_with_caption(tmp_path, f"{caption_site}{path}"))
    assert index.search("flamingo").total == 0
    assert index.search("deployment").total >= 1  # the talk itself is indexed
    assert any(why in r.getMessage() and DEPLOY in r.getMessage() for r in caplog.records)


def test_a_host_that_does_not_answer_is_asked_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "TIMEOUT", 1.0)
    monkeypatch.setenv("VOD_FETCH_ALLOW", "127.0.0.1")
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: refused at once
    catalog = catalog_with_caption(tmp_path, f"{down}/en.vtt")
    with caplog.at_level(logging.WARNING, logger="vod.index.build"):
        index = build(tmp_path, catalog)
    assert index.search("deployment").total >= 1
    assert any("did not answer" in r.getMessage() for r in caplog.records)


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(ValueError, match="not an http"):
        fetch_module.fetch_text("file:///etc/passwd", 1000)


@pytest.mark.parametrize(
    "src",
    [
        "{site}/en.vtt",  # the test server itself, on 127.0.0.1, when nothing allows it
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:127.0.0.1]:{port}/en.vtt",
        "http://localhost:{port}/en.vtt",
    ],
)
def test_a_caption_url_on_an_internal_address_is_never_fetched(
    tmp_path: Path,
    caption_site: str,
    src: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A third party's schedule cannot publish internal pages as a transcript (issue #10 #3)."""
    monkeypatch.delenv("VOD_FETCH_ALLOW")
    url = src.format(site=caption_site, port=caption_site.rsplit(":", 1)[1])
    with caplog.at_level(logging.WARNING, logger="vod.index.build"):
        index = build(tmp_path, catalog_with_caption(tmp_path, url))
    assert _Handler.hits == []
    assert index.search("flamingo").total == 0
    assert index.search("deployment").total >= 1  # the build succeeded, the talk is indexed
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(DEPLOY in w and "refused" in w for w in warnings), warnings
