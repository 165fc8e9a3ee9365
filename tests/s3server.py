"""Test helpers: a standalone moto S3 server on 127.0.0.1, `vod serve` subprocesses, clean env.

Imported by test modules as `from s3server import ...` (pytest's default "prepend" import mode
puts tests/ on sys.path). The moto server is shared: every module that uses the `moto_server`
fixture gets the same process, started on first use and stopped when the last user is done.
It is always reached over HTTP, never through moto's in-process mock.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PLACEHOLDER = REPO / "vod" / "static" / "placeholder.mp4"

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Variables that would point boto3 or vod somewhere other than where a test says.
_LEAKY_PREFIXES = ("AWS_", "VOD_")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_endpoint() -> str:
    """Return an http:// URL on 127.0.0.1 where connections are refused (an S3 that is down)."""
    return f"http://127.0.0.1:{free_port()}"


def requests_sent(client: Any) -> list[str]:
    """Record every HTTP request a boto3 client sends from now on, as "METHOD URL"."""
    sent: list[str] = []

    def record(request: Any, **kwargs: Any) -> None:
        sent.append(f"{request.method} {request.url}")

    client.meta.events.register("before-send", record)
    return sent


def isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Drop every AWS_* and VOD_* variable, then set fake AWS credentials and no config files."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES):
            monkeypatch.delenv(name)
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def child_env(**extra: str) -> dict[str, str]:
    """Return an environment for a `python -m vod` subprocess: no stray AWS_*/VOD_* values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.update(FAKE_AWS)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    # The child runs with cwd=tmp_path; make sure it imports this checkout's vod.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def wait_for_http(
    url: str, process: subprocess.Popen[Any], log: Path, timeout: float = 30.0
) -> None:
    """Poll `url` until it answers 200; fail with the process log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Process:
    """A background subprocess whose output goes to a log file."""

    args: list[str]
    log: Path
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log_file: IO[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self._log_file = self.log.open("wb")
        self.popen = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.popen is not None:
            if self.popen.poll() is None:
                self.popen.terminate()
                try:
                    self.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.popen.kill()
                    self.popen.wait()
            self.popen = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


@contextlib.contextmanager
def running(
    args: list[str],
    log: Path,
    ready_url: str,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Process]:
    """Start `args`, wait until `ready_url` answers 200, and stop the process afterwards."""
    process = Process(args, log, cwd, env)
    process.start()
    try:
        assert process.popen is not None
        wait_for_http(ready_url, process.popen, log)
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def vod_serve(
    tmp: Path, *, media_dir: Path, env: Mapping[str, str] | None = None, name: str = "vod"
) -> Iterator[str]:
    """Run the real `python -m vod serve` from `tmp`; the context gives its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "vod",
        "serve",
        "--port",
        str(port),
        "--index-dir",
        str(tmp / f"{name}-index"),
        "--media-dir",
        str(media_dir),
    ]
    with running(
        args, tmp / f"{name}.log", base + "/healthz", cwd=tmp, env=child_env(**dict(env or {}))
    ):
        yield base


# ---- the shared moto server -------------------------------------------------------------------


@dataclass
class MotoServer:
    """A moto S3 server on 127.0.0.1; `client()` gives a boto3 client with fake credentials."""

    endpoint: str
    process: Process

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=FAKE_AWS["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self) -> str:
        """Create an empty bucket with a unique name, so tests never see each other's objects."""
        name = f"vod-test-{uuid.uuid4().hex[:16]}"
        with contextlib.closing(self.client()) as s3:
            s3.create_bucket(Bucket=name)
        return name

    def upload(self, bucket: str, *keys: str, body: bytes | None = None) -> None:
        """Put `body` (default: the placeholder clip) at each key, as video/mp4."""
        data = PLACEHOLDER.read_bytes() if body is None else body
        with contextlib.closing(self.client()) as s3:
            for key in keys:
                s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="video/mp4")


_shared: MotoServer | None = None
_users = 0


def _acquire(log_dir: Path) -> MotoServer:
    global _shared, _users
    if _shared is None:
        port = free_port()
        process = Process(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            log_dir / "moto.log",
        )
        process.start()
        endpoint = f"http://127.0.0.1:{port}"
        try:
            assert process.popen is not None
            wait_for_http(endpoint + "/", process.popen, process.log)
        except BaseException:
            process.stop()
            raise
        _shared = MotoServer(endpoint, process)
    _users += 1
    return _shared


def _release() -> None:
    global _shared, _users
    _users -= 1
    if _users == 0 and _shared is not None:
        _shared.process.stop()
        _shared = None


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """The shared standalone moto S3 server (one process per test session)."""
    server = _acquire(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        _release()
