"""Several uvicorn workers, each with its own listening socket on the same port (SO_REUSEPORT).

`uvicorn --workers N` binds one socket in the supervisor and every worker accepts from it. The
worker whose event loop wakes first takes every connection waiting, so a burst of keep-alive
connections lands on one worker: under wrk's 32 connections we saw 27 on one worker and 5 on
the other, one core saturated while the other idled, and p99 talk pages at 147 ms.

Here each worker binds its own socket with SO_REUSEPORT and the kernel spreads new connections
over them. The supervisor is still uvicorn's (health checks, restarts, SIGHUP, SIGTTIN/TTOU):
it hands each worker a `ListenOn` instead of a socket, which becomes a socket bound in the
worker when the worker unpickles it. The supervisor itself holds no listening socket, so no
connection ever waits on a socket nobody accepts from.
"""

from __future__ import annotations

import logging
import socket
import sys
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("uvicorn.error")

# uvicorn's exit code for a worker that cannot start: its supervisor then stops, instead of
# restarting a worker that will fail the same way.
STARTUP_FAILURE = 3


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
        return bind_reuseport(host, port)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc)
        sys.exit(STARTUP_FAILURE)


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
