"""A real `vod serve` bounds its connections: slow or silent clients cannot pile up (issue #10).

Each test starts the real server and talks raw TCP to it, the way a slowloris client does.
"""

from __future__ import annotations

import http.client
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from s3server import vod_serve

SAMPLE_CATALOG = Path(__file__).parent / "data" / "catalog"


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10)
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Tell whether the server closes `sock` within `within` seconds (recv gives EOF)."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_client_that_never_finishes_its_headers_is_disconnected(tmp_path: Path) -> None:
    env = {"VOD_CATALOG": str(SAMPLE_CATALOG), "VOD_HEADER_TIMEOUT": "1"}
    with vod_serve(tmp_path, media_dir=tmp_path / "media", env=env) as base:
        silent = _connect(base)  # sends nothing at all
        slow = _connect(base)  # sends a header line, then stalls (slowloris)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        assert _closed_by_server(silent, within=8)
        assert _closed_by_server(slow, within=8)
        assert time.monotonic() - started < 8
        # A kept-alive connection's next request gets the same deadline once it starts.
        keep = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
        keep.request("GET", "/healthz")
        assert keep.getresponse().read()
        assert keep.sock is not None
        keep.sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert _closed_by_server(keep.sock, within=8)
        keep.close()
        # The server still answers everyone else.
        fresh = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
        fresh.request("GET", "/healthz")
        assert fresh.getresponse().status == 200
        fresh.close()
        for sock in (silent, slow):
            sock.close()


def test_requests_beyond_the_connection_limit_get_503(tmp_path: Path) -> None:
    env = {"VOD_CATALOG": str(SAMPLE_CATALOG), "VOD_MAX_CONNECTIONS": "4"}
    with vod_serve(tmp_path, media_dir=tmp_path / "media", env=env) as base:
        held = [_connect(base) for _ in range(4)]  # open, idle: each counts
        try:
            time.sleep(0.2)  # let the server accept them (no assertion rests on the timing)
            extra = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
            extra.request("GET", "/healthz")
            assert extra.getresponse().status == 503
            extra.close()
        finally:
            for sock in held:
                sock.close()
        deadline = time.monotonic() + 10
        while True:  # once they are gone, requests are served again
            again = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
            again.request("GET", "/healthz")
            status = again.getresponse().status
            again.close()
            if status == 200:
                break
            assert time.monotonic() < deadline, "still refusing after the held connections closed"
            time.sleep(0.1)
