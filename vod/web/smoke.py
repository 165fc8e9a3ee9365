"""Render one path in-process, without a server: `vod serve --get PATH` (a smoke test).

It speaks ASGI to the app directly (lifespan start-up, one request, shutdown), so it needs only
vod's runtime dependencies; Starlette's TestClient needs httpx, a test-only package.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message

from vod.config import Settings


class StartupFailed(Exception):
    """The app's lifespan start-up failed; the message says why."""


async def _lifespan(
    app: ASGIApp, events: asyncio.Queue[Message], state: dict[str, Any]
) -> tuple[asyncio.Queue[Message], asyncio.Task[None]]:
    """Start the app's lifespan (it fills `state`); return its replies and its task."""
    replies: asyncio.Queue[Message] = asyncio.Queue()

    async def receive() -> Message:
        return await events.get()

    async def send(message: Message) -> None:
        await replies.put(message)

    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}

    async def run() -> None:
        await app(scope, receive, send)

    task = asyncio.get_running_loop().create_task(run())
    await events.put({"type": "lifespan.startup"})
    reply = await replies.get()
    if reply["type"] != "lifespan.startup.complete":
        raise StartupFailed(str(reply.get("message") or "the app did not start"))
    return replies, task


async def _request(app: ASGIApp, path: str, state: dict[str, Any]) -> tuple[int, bytes]:
    """Send one GET for `path` and return the status and the body."""
    parts = urlsplit(path)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": parts.path or "/",
        "raw_path": (parts.path or "/").encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 0),
        "server": ("localhost", 80),
        "state": state,
    }
    sent = False
    status = 500
    body = bytearray()

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects early
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(body)


async def _get(settings: Settings, path: str) -> tuple[int, bytes]:
    from vod.web.app import create_app

    app = create_app(settings)
    events: asyncio.Queue[Message] = asyncio.Queue()
    # The lifespan's state reaches each request through the scope, as servers pass it on.
    state: dict[str, Any] = {}
    replies, lifespan = await _lifespan(app, events, state)
    try:
        return await _request(app, path, dict(state))
    finally:
        await events.put({"type": "lifespan.shutdown"})
        await replies.get()
        await lifespan


def get(settings: Settings, path: str) -> tuple[int, str]:
    """Render `path` with the app for `settings`, in this process; return status and text."""
    status, body = asyncio.run(_get(settings, path))
    return status, body.decode("utf-8", "replace")
