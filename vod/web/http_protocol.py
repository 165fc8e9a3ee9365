"""Uvicorn's HTTP protocol, with TCP_NODELAY on every connection and a deadline for headers.

TCP_NODELAY: with `--workers 2` uvicorn binds the listening socket itself as
`socket.socket(family)`, whose `proto` is 0; asyncio turns Nagle's algorithm off only for
sockets whose `proto` says TCP, so every connection a worker accepts keeps it on. A response
written in two parts (headers, then body) then waits for the client's delayed acknowledgement:
40 ms added to every keep-alive request (bench/bench_serve.py measured p50 48 ms against 5 ms
with one worker).

Header deadline (issue #10, item 5): uvicorn closes a keep-alive connection that stays idle
after a response, but it sets no deadline on a request's line and headers. A client that opens
connections and sends a header line every few seconds (slowloris), or nothing at all, kept each
one open for ever, and enough of them exhaust the worker's file descriptors. Here every request
must have sent its headers within `header_timeout` seconds of its first byte (or of the
connection, for the first request); otherwise the connection is closed.

Balance (`--workers N`): the worker's open connections are counted for balance.py, and a
request arriving on a worker above its share is answered with `Connection: close`.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vod.web import balance

# Seconds a client has to send a request's line and headers (VOD_HEADER_TIMEOUT).
DEFAULT_HEADER_TIMEOUT = 10.0


class NoDelayHTTPProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, sending small responses at once, with a header deadline,
    and asking a client to reconnect when its worker holds more than its share of connections."""

    def __init__(self, *args: Any, header_timeout: float = DEFAULT_HEADER_TIMEOUT, **kw: Any):
        super().__init__(*args, **kw)
        self.header_timeout = header_timeout
        self._header_deadline: Any = None  # asyncio.TimerHandle while headers are awaited
        self._share = balance.current()  # None with one worker
        self._told_to_close = False

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._share is not None:
            self._share.opened()
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        # The first bytes of a new request on a kept-alive connection start its deadline.
        if self._header_deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm_header_deadline()
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()
        # The response to this request says `Connection: close` when this worker holds more
        # than its share (balance.py); never with pipelined requests waiting behind it.
        cycle = self.cycle
        if (
            self._share is not None
            and not self._told_to_close
            and cycle is not None
            and cycle.keep_alive
            and not self.pipeline
            and self._share.over_share()
        ):
            cycle.keep_alive = False
            self._told_to_close = True

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        if self._share is not None:
            self._share.closed(told=self._told_to_close)
            self._share = None  # counted once, however the connection ends
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
