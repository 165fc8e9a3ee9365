"""`vod check` says what it did not check; `--external` checks recording links over real HTTP."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner, Result
from s3server import PLACEHOLDER, free_port, http_server, isolate_env

from vod.catalog.external import (
    ExternalLink,
    HostPacer,
    check_links,
    probe_url,
    recording_links,
)
from vod.cli import main
from vod.outbound import Allowed

EVENT = """\
event:
  slug: conf
  name: Conf
  start_date: 2024-03-01
  timezone: Europe/Paris
talks:
"""


class _Site(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str]]] = []  # (method, path, Range header)
    inflight: ClassVar[int] = 0
    most: ClassVar[int] = 0
    lock: ClassVar[threading.Lock] = threading.Lock()
    release: ClassVar[threading.Event] = threading.Event()

    def _answer(self, body: bool) -> None:
        type(self).seen.append((self.command, self.path, self.headers.get("Range", "")))
        if self.path.startswith("/slow/"):
            with self.lock:
                type(self).inflight += 1
                type(self).most = max(type(self).most, type(self).inflight)
            self.release.wait(0.05)  # long enough for other requests to pile up, if allowed
            with self.lock:
                type(self).inflight -= 1
        if self.path == "/gone.mp4":
            self.send_error(404)
            return
        if self.path == "/moved.mp4":
            self.send_response(302)
            self.send_header("Location", "/ok.mp4")
            self.end_headers()
            return
        if self.path == "/nohead.mp4" and self.command == "HEAD":
            self.send_error(405)
            return
        ranged = self.headers.get("Range") == "bytes=0-0"
        self.send_response(206 if ranged else 200)
        self.send_header("Content-Length", "1" if ranged else "1000000")
        self.end_headers()
        if body:
            self.wfile.write(b"\0" if ranged else b"\0" * 1_000_000)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    isolate_env(monkeypatch, tmp_path)
    monkeypatch.setenv("VOD_FETCH_ALLOW", "127.0.0.1")  # the test server: an intranet host
    _Site.seen, _Site.inflight, _Site.most = [], 0, 0
    with http_server(_Site) as base:
        yield base


def catalog(tmp_path: Path, urls: list[str], stored: int = 1, quiet: int = 1) -> Path:
    talks = "".join(
        f"  - slug: external-{i}\n    recording:\n      url: {url}\n" for i, url in enumerate(urls)
    )
    talks += "".join(f"  - slug: stored-{i}\n" for i in range(stored))
    talks += "".join(f"  - slug: quiet-{i}\n    do_not_record: true\n" for i in range(quiet))
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "conf.yaml").write_text(EVENT + talks)
    media = tmp_path / "media" / "conf"
    media.mkdir(parents=True)
    for i in range(stored):
        (media / f"stored-{i}.mp4").write_bytes(PLACEHOLDER.read_bytes())
    return folder


def run(tmp_path: Path, folder: Path, *args: str) -> Result:
    env = {"VOD_MEDIA_DIR": str(tmp_path / "media")}
    return CliRunner().invoke(main, ["check", "--catalog", str(folder), *args], env=env)


def test_plain_check_says_what_it_did_not_check(site: str, tmp_path: Path) -> None:
    folder = catalog(tmp_path, [f"{site}/ok.mp4", f"{site}/gone.mp4"])
    result = run(tmp_path, folder)
    assert result.exit_code == 0, result.output
    assert "every recording present" not in result.output
    assert "OK: 4 talks; 1 recording(s) present in local folder" in result.output
    assert "Not checked: 2 external recording link(s); `vod check --external`" in result.output
    assert "Not recorded (do_not_record): 1 talk(s)" in result.output
    out = json.loads(run(tmp_path, folder, "--json").output)
    assert out == {
        "ok": True,
        "errors": [],
        "missing": [],
        "not_checked": {"external": 2},
        "not_recorded": 1,
    }
    assert _Site.seen == []  # nothing was asked


def test_external_reports_dead_links_with_file_and_line(site: str, tmp_path: Path) -> None:
    urls = [
        f"{site}/ok.mp4",
        f"{site}/gone.mp4",
        f"{site}/nohead.mp4",
        f"{site}/moved.mp4",
        "http://169.254.169.254/latest/meta-data/",
    ]
    folder = catalog(tmp_path, urls)
    result = run(tmp_path, folder, "--external")
    assert result.exit_code == 1, result.output
    file = folder / "conf.yaml"
    assert f"dead: {file}:12: talks[1].recording.url: external-1: {site}/gone.mp4: HTTP 404" in (
        result.output
    )
    assert f"dead: {file}:21: talks[4].recording.url: external-4:" in result.output
    assert "cloud metadata address" in result.output
    assert "External recording links: 5 checked, 2 dead." in result.output
    # HEAD first; a GET of one byte only where HEAD is not served.
    assert ("HEAD", "/nohead.mp4", "") in _Site.seen
    assert ("GET", "/nohead.mp4", "bytes=0-0") in _Site.seen
    assert [m for m, p, _ in _Site.seen if p == "/ok.mp4"] == ["HEAD", "HEAD"]  # and by redirect
    out = json.loads(run(tmp_path, folder, "--external", "--json").output)
    assert out["ok"] is False and out["external"]["checked"] == 5
    first = out["external"]["dead"][0]
    assert (first["talk"], first["line"], first["reason"]) == ("external-1", 12, "HTTP 404")
    assert set(out["external"]["dead"][0]) == {
        "file",
        "line",
        "field",
        "talk",
        "url",
        "reason",
        "unreachable",
    }
    assert out["external"]["dead"][0]["unreachable"] is False


def test_concurrency_is_bounded(site: str) -> None:
    links = [ExternalLink("f", 1, "url", f"t{i}", f"{site}/slow/{i}.mp4") for i in range(12)]
    results = check_links(links, jobs=3, per_host_rate=1000, allow=Allowed.parse(["127.0.0.1"]))
    assert all(r.ok for r in results) and [r.link for r in results] == links
    assert 1 <= _Site.most <= 3


def test_a_host_that_does_not_answer_is_asked_once(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    links = [ExternalLink("f", i, "url", f"t{i}", f"{down}/{i}.mp4") for i in range(3)]
    results = check_links(links, jobs=1, allow=Allowed.parse(["127.0.0.1"]))
    assert [(r.ok, r.unreachable) for r in results] == [(False, True)] * 3
    assert sum("not asked again" in r.reason for r in results) == 2


def test_each_host_is_paced() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = HostPacer(0.5, clock=lambda: now[0], sleep=sleep)
    for host in ("a", "a", "b", "a"):
        pacer.wait(host)
    assert slept == [0.5, 1.0]  # a's second and third requests wait; b's first does not
    now[0] = 200.0
    pacer.wait("a")
    assert slept == [0.5, 1.0]  # long after: no wait


def test_recording_links_are_located(tmp_path: Path) -> None:
    folder = catalog(tmp_path, ["https://v.example/a.mp4", "https://v.example/b.mp4"])
    links = recording_links(folder)
    assert [(Path(x.file).name, x.line, x.field, x.talk) for x in links] == [
        ("conf.yaml", 9, "talks[0].recording.url", "external-0"),
        ("conf.yaml", 12, "talks[1].recording.url", "external-1"),
    ]


@pytest.mark.parametrize(
    ("url", "probe", "provider"),
    [
        (
            "https://youtu.be/dQw4w9WgXcQ",
            "https://www.youtube.com/oembed?format=json&url="
            "https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DdQw4w9WgXcQ",
            "YouTube",
        ),
        (
            "https://vimeo.com/channels/staff/76979871",
            "https://vimeo.com/api/oembed.json?url=https%3A%2F%2Fvimeo.com%2F76979871",
            "Vimeo",
        ),
        ("https://videos.example.org/a.mp4", "https://videos.example.org/a.mp4", ""),
        ("https://www.youtube.com/user/someone", "https://www.youtube.com/user/someone", ""),
    ],
)
def test_provider_pages_are_asked_through_oembed(url: str, probe: str, provider: str) -> None:
    """A YouTube page answers 200 for a removed video; its oEmbed endpoint answers 404."""
    assert probe_url(url) == (probe, provider)
