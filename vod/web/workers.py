"""Several uvicorn workers, each with its own listening socket on the same port (SO_REUSEPORT).

`uvicorn --workers N` binds one socket in the supervisor and every worker accepts from it. The
worker whose event loop wakes first takes every connection waiting, so a burst of keep-alive
connections lands on one worker: under wrk's 32 connections we saw 27 on one worker and 5 on
the other, one core saturated while the other idled, and p99 talk pages at 147 ms.

Here each worker binds its own socket with SO_REUSEPORT and the kernel spreads new connections
over them; the workers then even out what the kernel's hash left uneven (balance.py). The
supervisor is still uvicorn's (health checks, restarts, SIGHUP, SIGTTIN/TTOU): it hands each
worker a `ListenOn` instead of a socket, which becomes a socket bound in the worker when the
worker unpickles it. The supervisor itself holds no listening socket, so no connection ever
waits on a socket nobody accepts from.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vod.web import balance

if TYPE_CHECKING:
    from vod.config import Settings

log = logging.getLogger("uvicorn.error")

# uvicorn's exit code for a worker that cannot start: its supervisor then stops, instead of
# restarting a worker that will fail the same way.
STARTUP_FAILURE = 3
# What every worker runs: the app built from VOD_* variables.
APP_FACTORY = "vod.web.app:create_app_from_env"


def available() -> bool:
    """Tell whether this platform can give each worker its own socket on one port."""
    return hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def bind_reuseport(host: str, port: int) -> socket.socket:
    """Bind a TCP socket to (host, port) that other workers may bind too."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _bind_in_worker(host: str, port: int) -> socket.socket:
    try:
        sock = bind_reuseport(host, port)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc)
        sys.exit(STARTUP_FAILURE)
    # Counted from now on, so the other workers weigh this one even before its first
    # connection: the kernel's hash does not split connections evenly (balance.py).
    if balance.start() is not None:
        atexit.register(balance.stop)
    return sock


@dataclass(frozen=True)
class ListenOn:
    """Where a worker listens; unpickled in the worker as a socket bound there."""

    host: str
    port: int

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return (_bind_in_worker, (self.host, self.port))


def check_port(host: str, port: int) -> None:
    """Fail now, in the supervisor, when (host, port) is taken, even by another vod serve.

    The probe binds without SO_REUSEPORT: it fails on any socket bound there, so workers never
    silently share a port with a stale server.
    """
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    finally:
        probe.close()


def run(config: Any) -> None:
    """Run `config.workers` uvicorn workers, each listening on its own socket."""
    from uvicorn.supervisors import Multiprocess

    check_port(config.host, config.port)
    log.info(
        "Uvicorn running on http://%s:%d with %d workers, one socket each (Press CTRL+C to quit)",
        config.host,
        config.port,
        config.workers,
    )
    listen: Any = ListenOn(config.host, config.port)
    Multiprocess(config, sockets=[listen]).run()


def run_server(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    talks: int,
    catalog: Path | None,
    media_dir: Path | None,
    *,
    say: Callable[[str], None],
) -> None:
    """Serve the app on (host, port) with `workers` uvicorn processes until stopped.

    Raises OSError when the port cannot be listened on.
    """
    import uvicorn

    from vod.web.http_protocol import NoDelayHTTPProtocol
    from vod.web.middleware import is_loopback

    # Workers read their settings from the environment: pass the command's choices on (the
    # index folder as chosen there, which may follow the catalog: config.default_index_dir).
    for name, value in (
        ("VOD_CATALOG", catalog),
        ("VOD_INDEX_DIR", settings.index_dir),
        ("VOD_MEDIA_DIR", media_dir),
    ):
        if value is not None:
            os.environ[name] = str(value)
    say(f"Serving {talks} talks on http://{host}:{port}/")
    if settings.base_url is None and not is_loopback(host):
        say(
            f"Warning: listening on {host} without VOD_BASE_URL: links are built from each "
            "request's Host header, so pages are sent as private (not cacheable by a CDN). "
            "Set VOD_BASE_URL to the public URL (and VOD_ALLOWED_HOSTS for other names)."
        )
    options: dict[str, Any] = dict(
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        # No 40 ms Nagle stall per response with --workers > 1, and a deadline for a request's
        # headers, so slow or silent connections cannot pile up (issue #10, item 5).
        http=functools.partial(NoDelayHTTPProtocol, header_timeout=settings.header_timeout),
        limit_concurrency=settings.max_connections,  # beyond it, requests get 503
        timeout_keep_alive=5,  # idle keep-alive connections close after 5 s
        # asyncio's loop accepts every connection waiting when the listening socket is ready.
        # uvloop's libuv (1.45 and later) accepts one per turn of the loop, and each turn serves
        # every request waiting, so in a burst of new connections (a load run, a shared link)
        # the last waited for as many turns as there were connections before it: up to 1.2 s.
        # The distinct-search load run's p99 went from 83-90 ms to 64-87, its slowest request
        # from 0.16-0.48 s to 0.10-0.18 (BENCHMARKS.md; tests/test_serve_accept.py).
        loop="asyncio",
    )
    if workers > 1 and port != 0 and available():
        # One listening socket per worker, so the kernel spreads connections (see above), and
        # one folder of rendered search pages for all of them (kept_pages.py).
        with shared_pages_folder():
            run(uvicorn.Config(APP_FACTORY, factory=True, **options))
        return
    uvicorn.run(APP_FACTORY, factory=True, **options)


@contextlib.contextmanager
def shared_pages_folder() -> Iterator[Path]:
    """Make a private folder for the workers' shared pages, named to them in the environment,
    and remove it when the server stops."""
    from vod.web.kept_pages import SHARED_PAGES_ENV

    # In memory where Linux offers it (tmpfs): writing a page there costs 26 us of CPU, against
    # 100-670 us on this machine's ext4 (a new file and a rename per page rendered).
    memory = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="vod-pages-", dir=memory))  # mode 0700: ours alone
    os.environ[SHARED_PAGES_ENV] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(SHARED_PAGES_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
