"""The one outbound fetch helper: internal addresses refused at every hop, over real HTTP."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from s3server import http_server

from vod.config import Settings
from vod.errors import ConfigError
from vod.outbound import (
    Allowed,
    FetchError,
    HostDown,
    RefusedAddress,
    fetch,
    fetch_text,
    refusal,
)

LOCAL = Allowed.parse(["127.0.0.1"])


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    redirect_to: ClassVar[str] = ""

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        if self.path == "/hop":
            self.send_response(302)
            self.send_header("Location", type(self).redirect_to)
            self.end_headers()
            return
        body = b"secret " + self.headers.get("Host", "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    _Handler.hits = []
    with http_server(_Handler) as base:
        yield base


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public address"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd00::1", "unique-local"),
        ("fc00::1", "unique-local"),
        ("fd00:ec2::254", "metadata"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:7f00:1::1", "loopback"),
    ],
)
def test_internal_addresses_are_refused(address: str, why: str) -> None:
    found = refusal(ipaddress.ip_address(address))
    assert found is not None and why in found


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/x",
        "http://localhost:{port}/x",
        "http://[::ffff:127.0.0.1]:{port}/x",
        "http://2130706433:{port}/x",  # 127.0.0.1 as one number
        "http://0x7f.1:{port}/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::]:{port}/x",
    ],
)
def test_a_fetch_of_an_internal_host_is_refused_before_connecting(site: str, url: str) -> None:
    port = site.rsplit(":", 1)[1]
    with pytest.raises(RefusedAddress, match="refused"):
        fetch(url.format(port=port), limit=1000, allow=Allowed())
    assert _Handler.hits == []


def test_an_allowed_internal_host_is_fetched(site: str) -> None:
    response = fetch(f"{site}/x", limit=1000, allow=LOCAL)
    assert response.status == 200 and response.body.startswith(b"secret")
    assert fetch_text(f"{site}/x", 1000, allow=LOCAL) == response.body.decode()


def test_the_allow_list_comes_from_vod_fetch_allow(
    site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOD_FETCH_ALLOW", raising=False)
    with pytest.raises(RefusedAddress):
        fetch_text(f"{site}/x", 1000)
    monkeypatch.setenv("VOD_FETCH_ALLOW", "intranet.example, 127.0.0.0/8")
    assert fetch_text(f"{site}/x", 1000) is not None


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/x",  # another loopback address, not listed
        "http://169.254.169.254/latest/meta-data/",  # metadata: never, even if listed
        "http://[::1]:{port}/x",
        "file:///etc/passwd",
    ],
)
def test_every_redirect_hop_is_checked(site: str, target: str) -> None:
    port = site.rsplit(":", 1)[1]
    _Handler.redirect_to = target.format(port=port)
    allow = Allowed.parse(["127.0.0.1", "169.254.0.0/16"])
    with pytest.raises(FetchError):
        fetch(f"{site}/hop", limit=1000, allow=allow)
    assert _Handler.hits == ["/hop"]


def test_a_redirect_to_an_allowed_host_is_followed(site: str) -> None:
    _Handler.redirect_to = "/x"
    response = fetch(f"{site}/hop", limit=1000, allow=LOCAL)
    assert response.status == 200 and response.url == f"{site}/x"
    assert _Handler.hits == ["/hop", "/x"]


def test_the_connection_goes_to_the_address_that_was_checked(
    site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name is resolved once; a second answer is never used."""
    port = int(site.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = ["127.0.0.1", "203.0.113.9"]  # then an address where nothing answers
    asked: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "captions.test":
            return real(host, *args, **kwargs)
        asked.append(host)
        address = answers[min(len(asked) - 1, 1)]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    response = fetch(
        f"http://captions.test:{port}/x", limit=1000, allow=Allowed.parse(["captions.test"])
    )
    assert response.body == f"secret captions.test:{port}".encode()  # the Host header kept
    assert asked == ["captions.test"]


def test_a_name_listed_in_the_allow_list_never_reaches_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def metadata(host: Any, *args: Any, **kwargs: Any) -> Any:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]

    monkeypatch.setattr(socket, "getaddrinfo", metadata)
    with pytest.raises(RefusedAddress, match="metadata"):
        fetch("http://intranet.test/", limit=10, allow=Allowed.parse(["intranet.test"]))


def test_size_and_scheme_bounds_stay(site: str) -> None:
    with pytest.raises(FetchError, match="larger than"):
        fetch(f"{site}/x", limit=3, allow=LOCAL)
    with pytest.raises(FetchError, match="not an http"):
        fetch("ftp://example.org/x", limit=3, allow=LOCAL)


def test_vod_fetch_allow_is_checked_at_start() -> None:
    settings = Settings.from_env({"VOD_FETCH_ALLOW": "10.0.0.0/8, caps.corp.example,::1"})
    assert settings.fetch_allow == ("10.0.0.0/8", "caps.corp.example", "::1")
    assert settings.to_env()["VOD_FETCH_ALLOW"] == "10.0.0.0/8,caps.corp.example,::1"
    with pytest.raises(ConfigError, match="VOD_FETCH_ALLOW"):
        Settings.from_env({"VOD_FETCH_ALLOW": "http://bad host/"})


class _Trickle(http.server.BaseHTTPRequestHandler):
    stop: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        # One byte at a time, each within the read timeout: only the overall deadline ends it.
        while not self.stop.wait(0.05):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return

    def log_message(self, *args: object) -> None:
        pass


def test_a_slow_trickle_is_cut_off_by_the_deadline() -> None:
    _Trickle.stop.clear()
    with http_server(_Trickle) as base:
        try:
            with pytest.raises(HostDown, match="took too long"):
                fetch(f"{base}/x", limit=1_000_000, timeout=0.2, allow=LOCAL)
        finally:
            _Trickle.stop.set()
