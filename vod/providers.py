"""External recordings: which player plays a recording URL (a provider's embed, or <video>).

Imported catalogs point at recordings hosted elsewhere: YouTube, Vimeo, PeerTube instances,
the Internet Archive, or plain MP4/WebM/Ogg files. A provider's page cannot play in <video>,
so the talk page frames the provider's own embed player; a plain file plays in <video>; anything
else (a page vod does not know how to play) is offered as a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, quote, urlencode, urlsplit

if TYPE_CHECKING:
    from vod.catalog.model import Catalog  # the model alone: the catalog's loader imports this

Provider = Literal["youtube", "vimeo", "peertube", "archive.org", "file", "link"]

# Origins whose players any catalog may embed; PeerTube instances are added per catalog.
FIXED_FRAME_ORIGINS = (
    "https://www.youtube-nocookie.com",
    "https://player.vimeo.com",
    "https://archive.org",
)
# Files a browser plays in <video> (by the URL path's suffix).
FILE_SUFFIXES = (".mp4", ".m4v", ".webm", ".ogv", ".ogg", ".mov", ".m3u8")
YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "youtu.be",
    "www.youtube-nocookie.com",
}
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
PEERTUBE_PATH = re.compile(r"^/(?:videos/(?:watch|embed)|w)/([A-Za-z0-9-]{8,})/?$")
ARCHIVE_PATH = re.compile(r"^/(?:details|embed)/([^/]+(?:/[^/]+)?)/?$")
# What an origin may look like once it reaches a header (CSP frame-src): a scheme, an ASCII
# host (IDNA-encoded) and an optional port. Nothing else: a comma or a semicolon taken from a
# catalog URL would start a second policy or a new directive (issue #10, item 2).
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
UNSAFE_NOTE = "This recording's address is not a valid web address, so it cannot be played here."
SAFE_ORIGIN = re.compile(rf"^https?://{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?$")


@dataclass(frozen=True)
class ExternalPlayer:
    """How a recording URL plays: a provider's embed page, the browser's <video>, or a link."""

    provider: Provider
    embed_url: str | None  # the provider's player page for an <iframe>; None for file / link
    label: str  # who hosts it, for the page: "YouTube", "PeerTube (video.example.org)"
    note: str | None = None  # what the page says when the URL cannot be played as given

    @property
    def origin(self) -> str | None:
        """The origin the iframe loads from, for the page's CSP frame-src."""
        if self.embed_url is None:
            return None
        parts = urlsplit(self.embed_url)
        return f"{parts.scheme}://{parts.netloc}"

    def src(self, start: int | None = None, end: int | None = None) -> str | None:
        """The iframe's src, playing from `start` to `end` seconds where the provider can.

        YouTube takes both (`start`, `end`), PeerTube both (`start`, `stop`), Vimeo only a start
        (`#t=`); other embeds play from the beginning.
        """
        if self.embed_url is None:
            return None
        end = end if end and end > (start or 0) else None
        if self.provider in ("youtube", "peertube"):
            stop = "end" if self.provider == "youtube" else "stop"
            params = [(name, str(v)) for name, v in (("start", start), (stop, end)) if v]
            return f"{self.embed_url}?{urlencode(params)}" if params else self.embed_url
        if self.provider == "vimeo" and start:
            return f"{self.embed_url}#t={start}s"
        return self.embed_url


def safe_origin(url: str) -> str | None:
    """Return `url`'s origin as it may appear in a header, IDNA-encoded, or None when it can't.

    `https://視頻.example/...` gives `https://xn--...example`; a URL with credentials, an empty
    or malformed host, a bad port, or any character outside a host name gives None.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # "http://[::1", "http://h:99999": not a URL a browser would load
        return None
    netloc = parts.netloc
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or "@" in netloc:
        return None
    try:
        # Python's codec applies IDNA 2003 (nameprep + punycode) label by label.
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return None
    origin = f"{parts.scheme}://{ascii_host}" + (f":{port}" if port is not None else "")
    return origin if SAFE_ORIGIN.match(origin) else None


def unsafe_url_reason(url: str) -> str | None:
    """Say why a catalog URL cannot be used as given (for `vod check`), or None when it can."""
    if safe_origin(url) is None:
        return f"{url!r} has no valid host name (it cannot be linked or embedded safely)"
    return None


def _youtube_id(host: str, path: str, query: str) -> str | None:
    if host == "youtu.be":
        candidate = path.strip("/").split("/")[0]
    elif path == "/watch":
        candidate = (parse_qs(query).get("v") or [""])[0]
    else:
        parts = path.strip("/").split("/")
        candidate = (
            parts[1] if len(parts) >= 2 and parts[0] in ("embed", "shorts", "live", "v") else ""
        )
    return candidate if YOUTUBE_ID.match(candidate) else None


def external_player(url: str) -> ExternalPlayer:
    """Decide how to play the recording at `url`."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        return ExternalPlayer("link", None, "elsewhere", note=UNSAFE_NOTE)
    if safe_origin(url) is None:
        # Never framed nor put in a header; `vod check` reports it with its file and line.
        return ExternalPlayer("link", None, parts.hostname or "elsewhere", note=UNSAFE_NOTE)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    if host in YOUTUBE_HOSTS:
        video = _youtube_id(host, path, parts.query)
        if video:
            return ExternalPlayer(
                "youtube", f"https://www.youtube-nocookie.com/embed/{video}", "YouTube"
            )
        return ExternalPlayer("link", None, "YouTube")
    if host in ("vimeo.com", "www.vimeo.com", "player.vimeo.com"):
        digits = [p for p in path.split("/") if p.isdigit()]
        if digits:
            return ExternalPlayer("vimeo", f"https://player.vimeo.com/video/{digits[-1]}", "Vimeo")
        return ExternalPlayer("link", None, "Vimeo")
    if host in ("archive.org", "www.archive.org") and (m := ARCHIVE_PATH.match(path)):
        item = quote(m.group(1), safe="/%")
        return ExternalPlayer(
            "archive.org", f"https://archive.org/embed/{item}", "the Internet Archive"
        )
    if path.lower().endswith(FILE_SUFFIXES):
        return ExternalPlayer("file", None, host or "elsewhere")
    if parts.scheme == "https" and (m := PEERTUBE_PATH.match(path)):
        # The host goes into the page's CSP: IDNA-encoded, as safe_origin checked above.
        origin = safe_origin(url)
        assert origin is not None
        return ExternalPlayer(
            "peertube", f"{origin}/videos/embed/{m.group(1)}", f"PeerTube ({host})"
        )
    return ExternalPlayer("link", None, host or "elsewhere")


_frames: tuple[str, str] | None = None  # (catalog digest, frame-src value)


def frame_sources(catalog: Catalog | None) -> str:
    """Return the CSP frame-src value: the fixed providers and the catalog's PeerTube hosts."""
    global _frames
    if catalog is None:
        return " ".join(FIXED_FRAME_ORIGINS)
    cached = _frames
    if cached is not None and cached[0] == catalog.digest and catalog.digest:
        return cached[1]
    origins = dict.fromkeys(FIXED_FRAME_ORIGINS)
    for talk in catalog.talks.values():
        url = talk.recording.url
        # Only PeerTube hosts vary; a substring test spares parsing 21,700 YouTube URLs.
        if url and ("/videos/" in url or "/w/" in url):
            origin = external_player(url).origin
            if origin is not None and SAFE_ORIGIN.match(origin):
                origins.setdefault(origin)
    value = " ".join(origins)
    _frames = (catalog.digest, value)
    return value
