"""Outbound HTTP: the one way vod asks another host for something (issue #10 item 3, #13).

Index-time caption URLs, `vod import schedule URL` and `vod check --external` all come here,
because what they fetch is named by data vod does not control (a third party's schedule.json).
Every request:

- is http or https only, at every redirect hop too (no file: or ftp: by way of a redirect);
- resolves the host once, refuses it when any of its addresses is internal (loopback, private,
  link-local, multicast, unspecified, reserved, IPv6 unique-local, cloud metadata, and the
  same inside IPv4-mapped, NAT64 and 6to4 IPv6 addresses), then connects to the very address it
  checked, so a name that resolves differently a moment later (DNS rebinding) gains nothing;
- follows at most MAX_REDIRECTS redirects, each checked the same way;
- is bounded: a timeout to connect and between bytes, an overall deadline, and a size limit
  read without downloading more.

`VOD_FETCH_ALLOW` lists the internal hosts, addresses or networks an intranet deployment does
want reached (a caption server on 10.0.0.5). Cloud metadata addresses stay refused even then:
no deployment needs its instance credentials published in a transcript.

Proxies from the environment (`http_proxy`) are not used: a proxy resolves names itself, which
would undo the address check.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

from vod import __version__
from vod.config import Settings, host_or_network
from vod.storage import text_within

TIMEOUT = 5.0  # seconds to connect, and between bytes read
DEADLINE_FACTOR = 12  # a whole fetch (redirects and body) takes at most this many timeouts
MAX_REDIRECTS = 5
SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 65_536
USER_AGENT = f"vod/{__version__}"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services: AWS (and GCP, Azure, OpenStack) 169.254.169.254, AWS's IPv6
# fd00:ec2::254, ECS task metadata 169.254.170.2, Alibaba Cloud 100.100.100.200. Refused even
# when VOD_FETCH_ALLOW lists a network that holds them.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")


class FetchError(ValueError):
    """The URL cannot be fetched: not http(s), too large, too many redirects, or refused."""


class RefusedAddress(FetchError):
    """The host is, or resolves to, an internal address that VOD_FETCH_ALLOW does not list."""


class HostDown(OSError):
    """The host did not answer (refused, timed out, unknown name): ask it nothing more."""


@dataclass(frozen=True)
class Allowed:
    """Internal hosts a deployment allows: host names, and addresses or networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowed:
        """Read VOD_FETCH_ALLOW's entries; raise ValueError for one that is neither."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            if not entry.strip():
                continue
            parsed = host_or_network(entry)  # ValueError for one that is neither
            if isinstance(parsed, str):
                names.add(parsed)
            else:
                networks.append(parsed)
        return cls(frozenset(names), tuple(networks))

    def permits(self, host: str, address: IPAddress) -> bool:
        return host in self.names or any(address in net for net in self.networks)


def allowed_from_env() -> Allowed:
    """The allow-list of VOD_FETCH_ALLOW, read through the settings."""
    return Allowed.parse(Settings.from_env().fetch_allow)


def refusal(address: IPAddress) -> str | None:
    """Say why `address` is internal (never fetched unless allowed), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried inside an IPv6 one reaches that IPv4 host: judge it instead.
        if address.ipv4_mapped is not None or any(address in net for net in _NAT64):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            why = refusal(inner)
            return f"{why} (inside {address})" if why else None
        if address.sixtofour is not None and (why := refusal(address.sixtofour)):
            return f"{why} (inside {address})"
    checks = (
        (address in METADATA, "a cloud metadata address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (
            isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL,
            "an IPv6 unique-local address",
        ),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((why for hit, why in checks if hit), None)


@dataclass
class Response:
    """What a host answered: the final URL (after redirects), status, headers and body."""

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    limit: int,
    timeout: float = TIMEOUT,
    allow: Allowed | None = None,
    partial: bool = False,
) -> Response:
    """Request `url`, following checked redirects; return the final answer, any status.

    Raise FetchError (RefusedAddress for an internal host) or HostDown; a body larger than
    `limit` bytes is a FetchError, and so is a Content-Length that announces one, unless
    `partial`: then the first `limit` bytes are kept and the rest is never read (a link check
    that only needs to know the file is there).
    """
    allowed = allowed_from_env() if allow is None else allow
    deadline = time.monotonic() + timeout * DEADLINE_FACTOR
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        response = _request(current, method, sent, limit, timeout, deadline, allowed, partial)
        location = response.headers.get("location")
        if response.status not in REDIRECTS or not location:
            return response
        current = urljoin(current, location.strip())
        if urlsplit(current).scheme not in SCHEMES:
            raise FetchError(f"{url!r} redirected outside http(s) to {current!r}")
        if response.status == 303 and method != "HEAD":
            method = "GET"
    raise FetchError(f"{url!r} redirects more than {MAX_REDIRECTS} times")


def fetch_text(
    url: str, limit: int, timeout: float = TIMEOUT, allow: Allowed | None = None
) -> str | None:
    """Return the UTF-8 text at `url`, or None when the server says it is not there (404/410).

    Raise FetchError for a URL that is not http(s), an internal host, a larger or non-UTF-8
    body, or another HTTP error; HostDown when the host does not answer.
    """
    response = fetch(url, limit=limit, timeout=timeout, allow=allow)
    if response.status in (404, 410):
        return None
    if response.status >= 300:
        raise FetchError(f"{url!r} answered HTTP {response.status}")
    try:
        return text_within(url, response.body, limit)
    except ValueError as exc:
        raise FetchError(str(exc)) from None


# ---- one request ------------------------------------------------------------------------------


def _ascii_host(host: str) -> str:
    """The host as DNS and the Host header carry it (an internationalised name, IDNA-encoded)."""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FetchError(f"{host!r} is not a valid host name") from None


@lru_cache(maxsize=1)
def _default_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def resolve(host: str, port: int, allowed: Allowed) -> list[IPAddress]:
    """Resolve `host` and return its addresses; raise RefusedAddress when any is internal."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise HostDown(f"{host} did not answer: {exc}") from None
        # Scope ids (fe80::1%eth0) are dropped: a link-local address is refused anyway.
        found = (ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos)
        addresses = list(dict.fromkeys(found))
    for address in addresses:
        if address in METADATA:
            raise RefusedAddress(f"{host} is a cloud metadata address ({address}); refused")
        why = refusal(address)
        if why is not None and not allowed.permits(host, address):
            shown = host if literal is not None else f"{host} ({address})"
            raise RefusedAddress(
                f"{shown} is {why}; refused (VOD_FETCH_ALLOW lists internal hosts to allow)"
            )
    if not addresses:
        raise HostDown(f"{host} did not answer: no address")
    return addresses


def _connect(addresses: list[IPAddress], port: int, timeout: float | None) -> socket.socket:
    """Connect to the first of the checked addresses that answers (never resolving again)."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to addresses checked beforehand, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, addresses: list[IPAddress], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Like _PinnedHTTP, with TLS: the certificate is checked against the host name."""

    def __init__(self, host: str, port: int, addresses: list[IPAddress], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=_default_context())
        self.addresses = addresses

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        try:
            self.sock = _default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _target(path: str, query: str) -> str:
    # http.client sends the target as given: quote spaces and non-ASCII, keep what is escaped.
    safe = "/%:@!$&'()*+,;=-._~"
    target = quote(path or "/", safe=safe)
    return target + ("?" + quote(query, safe=safe + "?") if query else "")


def _request(
    url: str,
    method: str,
    headers: Mapping[str, str],
    limit: int,
    timeout: float,
    deadline: float,
    allowed: Allowed,
    partial: bool,
) -> Response:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise FetchError(f"{url!r} is not an http(s) URL")
    try:
        raw_host, port = parts.hostname, parts.port
    except ValueError:
        raise FetchError(f"{url!r} has a bad port") from None
    if not raw_host:
        raise FetchError(f"{url!r} names no host")
    host = _ascii_host(raw_host) if not raw_host.isascii() else raw_host.lower()
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port, allowed)
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = kind(host, port, addresses, timeout)
    try:
        conn.request(method, _target(parts.path, parts.query), headers=dict(headers))
        answer = conn.getresponse()
        got = {k.lower(): v for k, v in answer.getheaders()}
        length = got.get("content-length", "")
        if method != "HEAD" and answer.status not in REDIRECTS:
            if length.isdigit() and int(length) > limit and not partial:
                raise FetchError(f"{url!r} is larger than {limit:,} bytes")
            body = _read(answer, limit, deadline, url, partial)
        else:
            body = b""
        return Response(url, answer.status, got, body)
    except FetchError:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise FetchError(f"{url!r}: TLS certificate not valid ({exc.verify_message})") from None
    except (OSError, http.client.HTTPException) as exc:
        raise HostDown(f"{parts.netloc} did not answer: {exc or type(exc).__name__}") from None
    finally:
        conn.close()


def _read(
    answer: http.client.HTTPResponse, limit: int, deadline: float, url: str, partial: bool
) -> bytes:
    """Read at most limit + 1 bytes (the caller tells "too large"), within the deadline."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        if time.monotonic() > deadline:
            raise TimeoutError(f"reading {url!r} took too long")
        # read1: what has arrived, not a full CHUNK, so a trickle meets the deadline check.
        chunk = answer.read1(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    if partial:
        return body[:limit]
    if len(body) > limit:
        raise FetchError(f"{url!r} is larger than {limit:,} bytes")
    return body
