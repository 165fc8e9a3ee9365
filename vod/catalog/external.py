"""External recording links, checked over HTTP for `vod check --external` (issue #14).

Each `recording.url` of the catalog is asked with HEAD, falling back to a GET of its first byte
(`Range: bytes=0-0`) when the host does not do HEAD. A YouTube or Vimeo page answers 200 even
for a video that was removed, so those are asked through the provider's oEmbed endpoint, which
answers 404 (gone) or 401/403 (private, or not embeddable: vod's player cannot play it).

Every request goes through the one fetch helper (vod/outbound.py: no internal addresses,
bounded time and size). At most `jobs` requests are in flight, a host is asked at most
`per_host_rate` times a second, and a host that does not answer is not asked again in the same
run: its other links are reported with the same reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vod.catalog.loader import _compose, catalog_files
from vod.errors import CatalogError
from vod.outbound import Allowed, FetchError, HostDown, allowed_from_env, fetch
from vod.providers import external_player

TIMEOUT = 10.0  # seconds to connect, and between bytes; a video host may be slow to answer
JOBS = 8  # requests in flight at once
PER_HOST_RATE = 2.0  # requests a second to one host: a link check must not look like a flood
# Answers to HEAD that mean "ask me with GET" rather than "not there".
NO_HEAD = frozenset({400, 403, 405, 406, 501})
RANGE_BYTES = 1  # what the fallback GET reads: enough to know the file is served
OEMBED_BYTES = 65_536  # an oEmbed answer is a few hundred bytes


@dataclass(frozen=True)
class ExternalLink:
    """A talk's external recording URL, where the catalog gives it."""

    file: str
    line: int
    field: str
    talk: str
    url: str


@dataclass(frozen=True)
class LinkResult:
    """What checking one link found: alive, or not, with the reason.

    `unreachable` tells a host that did not answer (no such name, refused, timed out: maybe
    only from here, or only now) from a link its host says is gone.
    """

    link: ExternalLink
    ok: bool
    reason: str = ""
    unreachable: bool = False

    def as_dict(self) -> dict[str, Any]:
        link = self.link
        return {
            "file": link.file,
            "line": link.line,
            "field": link.field,
            "talk": link.talk,
            "url": link.url,
            "reason": self.reason,
            "unreachable": self.unreachable,
        }

    def __str__(self) -> str:
        link = self.link
        return f"{link.file}:{link.line}: {link.field}: {link.talk}: {link.url}: {self.reason}"


def recording_links(path: Path) -> list[ExternalLink]:
    """List every talk's `recording.url` in the catalog at `path`, with file and line."""
    try:
        files = catalog_files(path)
    except CatalogError:
        return []  # validate_catalog reports it
    found: list[ExternalLink] = []
    base = path if path.is_dir() else path.parent
    for file in files:
        label = str(path / file.relative_to(base)) if path.is_dir() else str(file)
        try:
            root = _compose(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # validate_catalog reports it
        talks = _get(root, "talks")
        if not isinstance(talks, SequenceNode):
            continue
        for i, talk in enumerate(talks.value):
            slug = _get(talk, "slug")
            url = _get(_get(talk, "recording"), "url")
            if isinstance(slug, ScalarNode) and isinstance(url, ScalarNode) and url.value:
                found.append(
                    ExternalLink(
                        label,
                        url.start_mark.line + 1,
                        f"talks[{i}].recording.url",
                        str(slug.value),
                        str(url.value).strip(),
                    )
                )
    return found


def _get(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)


class HostPacer:
    """Space the requests to each host at least `interval` seconds apart, across threads."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        """Wait for this host's next free slot, and take it."""
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class _Checker:
    def __init__(self, allow: Allowed, pacer: HostPacer, timeout: float) -> None:
        self.allow = allow
        self.pacer = pacer
        self.timeout = timeout
        self.down: dict[str, str] = {}  # host -> why it did not answer
        self._lock = threading.Lock()

    def check(self, link: ExternalLink) -> LinkResult:
        url, provider = probe_url(link.url)
        host = urlsplit(url).netloc.lower()
        with self._lock:
            why = self.down.get(host)
        if why is not None:
            return LinkResult(link, False, f"{why} (not asked again)", unreachable=True)
        try:
            if provider:
                status = self._ask(host, url, "GET", OEMBED_BYTES)
                if status in (401, 403):
                    return LinkResult(
                        link, False, f"{provider}: the video is private or cannot be embedded"
                    )
                if status in (400, 404):
                    return LinkResult(link, False, f"{provider}: no such video (HTTP {status})")
            else:
                status = self._ask(host, url, "HEAD")
                if status in NO_HEAD:
                    status = self._ask(host, url, "GET")
        except HostDown as exc:
            with self._lock:
                self.down.setdefault(host, str(exc))
            return LinkResult(link, False, str(exc), unreachable=True)
        except FetchError as exc:
            return LinkResult(link, False, str(exc))
        if status >= 300:
            return LinkResult(link, False, f"HTTP {status}")
        return LinkResult(link, True)

    def _ask(self, host: str, url: str, method: str, limit: int = RANGE_BYTES) -> int:
        self.pacer.wait(host)
        ranged = method == "GET" and limit == RANGE_BYTES
        headers = {"Range": f"bytes=0-{RANGE_BYTES - 1}"} if ranged else {}
        response = fetch(
            url,
            method=method,
            headers=headers,
            limit=limit,
            timeout=self.timeout,
            allow=self.allow,
            partial=True,
        )
        return response.status


def probe_url(url: str) -> tuple[str, str]:
    """Return the URL that tells whether `url`'s video is there, and the provider it asks."""
    player = external_player(url)
    if player.provider == "youtube" and player.embed_url:
        video = player.embed_url.rsplit("/", 1)[1]
        watch = f"https://www.youtube.com/watch?v={video}"
        return f"https://www.youtube.com/oembed?format=json&url={quote(watch, safe='')}", "YouTube"
    if player.provider == "vimeo" and player.embed_url:
        page = f"https://vimeo.com/{player.embed_url.rsplit('/', 1)[1]}"
        return f"https://vimeo.com/api/oembed.json?url={quote(page, safe='')}", "Vimeo"
    return url, ""


def check_links(
    links: Iterable[ExternalLink],
    jobs: int = JOBS,
    per_host_rate: float = PER_HOST_RATE,
    timeout: float = TIMEOUT,
    allow: Allowed | None = None,
) -> list[LinkResult]:
    """Check each link over HTTP (bounded, rate-limited per host); return results in order."""
    todo = list(links)
    checker = _Checker(
        allowed_from_env() if allow is None else allow, HostPacer(1.0 / per_host_rate), timeout
    )
    # Interleave hosts, so the workers are not all waiting on one host's pace.
    order = sorted(range(len(todo)), key=_round_robin(todo))
    results: list[LinkResult | None] = [None] * len(todo)
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="vod-linkcheck") as pool:
        for i, result in zip(order, pool.map(checker.check, (todo[i] for i in order)), strict=True):
            results[i] = result
    return [r for r in results if r is not None]


def _round_robin(links: list[ExternalLink]) -> Callable[[int], tuple[int, int]]:
    rank: dict[int, tuple[int, int]] = {}
    seen: dict[str, int] = {}
    for i, link in enumerate(links):
        host = urlsplit(link.url).netloc.lower()
        seen[host] = seen.get(host, -1) + 1
        rank[i] = (seen[host], i)  # the first link of every host, then the second of each...
    return rank.__getitem__
