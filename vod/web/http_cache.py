"""Conditional GET: an ETag on every cacheable page and API answer, and 304 when it matches.

Pages are rendered from an immutable catalog and index version, so the body's hash is a sound
validator. Compression happens outside this middleware, so one ETag serves both encodings
(marked weak, as gzip changes the bytes).
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Only these answers are buffered and validated; files carry their own validators.
VALIDATED_TYPES = (
    "text/html",
    "application/json",
    "application/xml",
    "application/atom+xml",
    "text/xml",
    "application/xhtml+xml",
)
MAX_BUFFER = 4 * 1024 * 1024  # larger bodies stream through untouched


def body_etag(body: bytes) -> str:
    """The weak ETag of a response body (uncompressed), as every vod answer carries it."""
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Tell whether an If-None-Match header names `etag` (weak comparison, `*` matches)."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


class ConditionalGet:
    """Add a weak ETag to 200 answers of GET/HEAD and answer 304 to a matching If-None-Match."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passthrough = False

        async def wrapped(message: Message) -> None:
            nonlocal start, size, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                ctype = headers.get("content-type", "")
                if (
                    message["status"] != 200
                    or "etag" in headers
                    or "content-encoding" in headers
                    or not ctype.startswith(VALIDATED_TYPES)
                    or "no-store" in headers.get("cache-control", "")
                ):
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if message.get("more_body", False):
                if size > MAX_BUFFER:
                    passthrough = True
                    assert start is not None
                    await send(start)
                    await send(
                        {"type": "http.response.body", "body": b"".join(chunks), "more_body": True}
                    )
                return
            assert start is not None
            body = b"".join(chunks)
            etag = body_etag(body)
            headers = MutableHeaders(scope=start)
            headers["ETag"] = etag
            if if_none_match and etag_matches(if_none_match, etag):
                not_modified = {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [
                        (k, v)
                        for k, v in start["headers"]
                        if k.lower() not in (b"content-length", b"content-type")
                    ],
                }
                await send(not_modified)
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, wrapped)
