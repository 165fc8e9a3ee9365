"""What wraps every answer: trusted hosts, security headers, conditional GET, kept talk pages.

All three validate with one `etag()`. Pages are rendered from an immutable catalog and index
version, so the body's hash is a sound validator. Compression happens outside the conditional
GET middleware, so one ETag serves both encodings (marked weak, as gzip changes the bytes).

Kept pages: a talk page is a pure function of the catalog, the index version (transcripts),
what the player plays and the request's moment and host; rendering it is most of its cost
(Jinja2). Only pages whose playback URL does not expire are kept: local recordings, the
placeholder, and S3 recordings behind VOD_MEDIA_URL; not S3's presigned URLs. They are kept
gzip-compressed (about a quarter of their size), with their ETag: a browser, which accepts gzip,
gets the kept bytes as they are; a conditional request gets 304 without touching the body; a
client without gzip gets them decompressed (about 20 µs).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vod.providers import frame_sources

log = logging.getLogger(__name__)

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


def etag(body: bytes) -> str:
    """The weak ETag of a response body (uncompressed), as every vod answer carries it."""
    return weak_etag(hashlib.blake2b(body, digest_size=12).hexdigest())


def weak_etag(opaque: str) -> str:
    """Mark `opaque` as a weak ETag: gzip changes the bytes, never the meaning (RFC 9110 8.8.1)."""
    return f'W/"{opaque}"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Tell whether an If-None-Match header names `etag` (weak comparison, `*` matches)."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def not_modified(request: Request, etag: str, headers: dict[str, str]) -> Response | None:
    """Answer 304 with `headers` when the request already has `etag`, else None."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return None


# ---- security headers ---------------------------------------------------------------------

# Only embed pages may be framed; every other page refuses to be.
_CSP = (
    "default-src 'self'; img-src 'self' data: https:; media-src 'self' blob: https: http:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-src {frames}; frame-ancestors {ancestors}"
)


# Feeds and the sitemap are XML that vod builds with every text escaped (no markup of anyone's
# can reach them). A browser shows them with its own XML viewer, whose inline styles and
# handlers the pages' policy refused: a console error on each (issue #11). Their policy lets
# the viewer work and loads nothing else.
_XML_CSP = (
    "default-src 'none'; img-src 'self' data:; media-src 'none'; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'; "
    "frame-ancestors 'none'"
)
_XML_HEADERS = (
    ("Content-Security-Policy", _XML_CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)


def security_headers(path: str, frames: str | None = None) -> tuple[tuple[str, str], ...]:
    """Return the security headers of a response to `path`; only /embed/ may be framed.

    `frames` lists the origins whose players pages may frame (external recordings' providers);
    by default the fixed ones (YouTube, Vimeo, the Internet Archive).
    """
    if path.endswith(".xml"):
        return _XML_HEADERS
    return _security_headers(path.startswith("/embed/"), frames or frame_sources(None))


@functools.lru_cache(maxsize=64)
def _security_headers(framable: bool, frames: str) -> tuple[tuple[str, str], ...]:
    # Built once per (framable, catalog's frame origins), not per response.
    csp = _CSP.format(frames=frames, ancestors="*" if framable else "'none'")
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if not framable:
        headers["X-Frame-Options"] = "DENY"
    return tuple(headers.items())


def _frames(scope: Scope) -> str | None:
    """The frame-src origins of the catalog being served: PeerTube hosts vary per catalog."""
    state = scope.get("state", {}).get("vod")
    try:
        return frame_sources(state.catalog) if state is not None else None
    except Exception:  # headers must never fail a response: fall back to the fixed providers
        log.exception("cannot list the catalog's embed origins")
        return None


class SecurityHeaders:
    """Add CSP, nosniff and referrer headers; only /embed/ may be framed. On the way out, name
    each header a response varies on once (see _one_each)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(str(scope.get("path", "")), _frames(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
                vary = headers.getlist("vary")
                if len(vary) > 1 or (vary and "," in vary[0]):
                    headers["vary"] = _one_each(vary)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _one_each(values: list[str]) -> str:
    """The header names of Vary lines, each once, in their first spelling and order.

    Starlette's gzip middleware adds `Accept-Encoding` to the Vary of every answer it passes,
    also to a kept page's answer that already names it (`Vary: Accept-Encoding,
    Accept-Encoding`): harmless to a cache, but a header is best said once.
    """
    names: dict[str, str] = {}
    for value in values:
        for name in value.split(","):
            if name := name.strip():
                names.setdefault(name.lower(), name)
    return ", ".join(names.values())


# ---- conditional GET ------------------------------------------------------------------------


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
            tag = etag(body)
            headers = MutableHeaders(scope=start)
            headers["ETag"] = tag
            if if_none_match and etag_matches(if_none_match, tag):
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


# ---- The Host header is not trusted (issue #10, item 7) ------------------------------
#
# The Host header is not trusted (issue #10, item 7).
#
# Pages carry absolute URLs (canonical links, og:url, oEmbed discovery, feeds, the sitemap, the
# API, redirects) and are publicly cacheable, so a request with `Host: evil.example` must never
# put that host into a response a shared cache keeps for everyone.
#
# - With VOD_BASE_URL set, a request for any host but the base URL's (and VOD_ALLOWED_HOSTS) gets
#   400, and every request is seen by the app as a request to the base URL: every absolute URL and
#   redirect, whoever builds it, is on the public address.
# - Without it, URLs come from the request's Host, so responses are not publicly cacheable
#   (`public` becomes `private`), and `vod serve` warns when it listens beyond the loopback.

# Responses whose bytes never carry a URL built from the Host header: they stay public.
_HOST_FREE_PREFIXES = ("/static/", "/media/", "/cards/")


def _host_only(host: str) -> str:
    """`Example.org:8000` -> `example.org`; `[::1]:8000` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Tell whether the Host header `host` names one of `allowed` (`*.example.org` patterns)."""
    name = _host_only(host)
    if not name:
        return False
    for entry in allowed:
        pattern = _host_only(entry)
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]) and name != pattern[2:]:
                return True
        elif name == pattern:
            return True
    return False


def is_loopback(host: str) -> bool:
    """Tell whether `vod serve --host` listens only on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TrustedHost:
    """Refuse unknown hosts with a base URL, or keep host-built responses out of shared caches."""

    def __init__(
        self, app: ASGIApp, base_url: str | None, allowed_hosts: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.base_url = base_url
        if base_url:
            parts = urlsplit(base_url)
            self.scheme = parts.scheme
            self.netloc = parts.netloc.encode("latin-1")
            self.allowed = (parts.netloc, *allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.base_url:
            host = _header(scope, b"host")
            # /healthz names no URL: a load balancer may probe it by address.
            if scope.get("path") != "/healthz" and not host_allowed(host, self.allowed):
                response = PlainTextResponse("Bad Request: unknown Host header", status_code=400)
                await response(scope, receive, send)
                return
            # Seen by the app as a request to the public address: every URL it builds is there.
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            headers.append((b"host", self.netloc))
            scope = dict(scope, headers=headers, scheme=self.scheme)
            await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).startswith(_HOST_FREE_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cache = headers.get("cache-control")
                if cache and "public" in cache:
                    headers["cache-control"] = cache.replace("public", "private")
            await send(message)

        await self.app(scope, receive, send_private)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""
