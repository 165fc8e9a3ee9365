"""The Host header is not trusted (issue #10, item 7).

Pages carry absolute URLs (canonical links, og:url, oEmbed discovery, feeds, the sitemap, the
API, redirects) and are publicly cacheable, so a request with `Host: evil.example` must never
put that host into a response a shared cache keeps for everyone.

- With VOD_BASE_URL set, a request for any host but the base URL's (and VOD_ALLOWED_HOSTS) gets
  400, and every request is seen by the app as a request to the base URL: every absolute URL and
  redirect, whoever builds it, is on the public address.
- Without it, URLs come from the request's Host, so responses are not publicly cacheable
  (`public` becomes `private`), and `vod serve` warns when it listens beyond the loopback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
