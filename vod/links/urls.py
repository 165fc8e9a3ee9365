"""Absolute links to talks, moments, embeds, cards and feeds, on VOD_BASE_URL or the request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from vod.timecode import format_clock
from vod.web.routes import path_for

if TYPE_CHECKING:
    from starlette.requests import Request

    from vod.catalog import Talk
    from vod.storage import Recordings

# File suffixes of an external URL that is the video itself, not a page that plays it
# (a YouTube or Vimeo page URL must never be offered as an enclosure or contentUrl).
MEDIA_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".webm", ".mov", ".mkv", ".ogv", ".m3u8", ".mpd", ".mp3", ".m4a", ".ogg"}
)


@dataclass(frozen=True)
class Moment:
    """Where a link starts playing (`?t=`) and, for a clip, where it stops (`&end=`)."""

    start: int | None = None
    end: int | None = None

    def params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.start:
            out["t"] = str(self.start)
        if self.end:
            out["end"] = str(self.end)
        return out

    @property
    def label(self) -> str:
        """`1:30`, or `1:30–2:00` for a clip; empty for the whole recording."""
        if self.end:
            return f"{format_clock(self.start or 0)}–{format_clock(self.end)}"
        return format_clock(self.start) if self.start else ""


_SLOT = "vod-slug-slot"  # stands for the slug in a cached route template


class SiteUrls:
    """Build absolute URLs of named routes, on VOD_BASE_URL when it is set."""

    def __init__(self, base: str, app: Any) -> None:
        self.base = base.rstrip("/")
        self.app = app
        self._templates: dict[str, str] = {}

    @classmethod
    def from_request(cls, request: Request) -> SiteUrls:
        base = request.state.vod.settings.base_url or str(request.base_url)
        return cls(base, request.app)

    def absolute(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base + path

    def path(self, name: str, **params: Any) -> str:
        return path_for(self.app, name, **params)

    def url(self, name: str, query: dict[str, str] | None = None, **params: Any) -> str:
        url = self.absolute(self.path(name, **params))
        return f"{url}?{urlencode(query)}" if query else url

    def _by_slug(self, name: str, slug: str, query: dict[str, str] | None = None) -> str:
        # Sitemaps build tens of thousands of these: look the route up once per name. Catalog
        # slugs are lowercase letters, digits and hyphens, so they need no quoting.
        template = self._templates.get(name)
        if template is None:
            template = self._templates[name] = self.url(name, slug=_SLOT)
        url = template.replace(_SLOT, slug)
        return f"{url}?{urlencode(query)}" if query else url

    def talk(self, slug: str, moment: Moment | None = None) -> str:
        return self._by_slug("talk", slug, moment.params() if moment else None)

    def embed(self, slug: str, moment: Moment | None = None) -> str:
        return self._by_slug("embed", slug, moment.params() if moment else None)

    def card(self, slug: str, width: int | None = None) -> str:
        return self._by_slug("card", slug, {"w": str(width)} if width else None)

    def speaker(self, slug: str) -> str:
        return self._by_slug("speaker", slug)

    def site_root(self) -> str:
        return self.url("home")

    def is_ours(self, url: str, request_host: str | None = None) -> bool:
        """Tell whether `url` is on this site (its base URL's host, or the request's)."""
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[::1" and other URLs that cannot be split
            return False
        hosts = {urlsplit(self.base).netloc.lower()}
        if request_host:
            hosts.add(request_host.lower())
        return parts.scheme in ("http", "https") and parts.netloc.lower() in hosts


def public_recording_url(talk: Talk, recordings: Recordings, urls: SiteUrls) -> str | None:
    """Return a stable, public URL of the video file itself, or None.

    An external URL counts when it names a media file; a local recording counts when it is in
    the media folder (vod serves it at /media/), or in S3 with VOD_MEDIA_URL set (a CDN). Other
    S3 recordings are played from presigned URLs that expire, so they are never published in
    feeds, sitemaps or JSON-LD.
    """
    rec = talk.recording
    if rec.url:
        suffix = PurePosixPath(urlsplit(rec.url).path).suffix.lower()
        return rec.url if suffix in MEDIA_SUFFIXES else None
    return _public_media_url(rec.key, recordings, urls)


def public_poster_url(talk: Talk, recordings: Recordings, urls: SiteUrls) -> str | None:
    """Return the catalog's poster as a stable public URL, or None (then the title card)."""
    poster = talk.recording.poster
    if not poster:
        return None
    if poster.startswith(("http://", "https://")):
        return poster
    return _public_media_url(poster, recordings, urls)


def _public_media_url(key: str | None, recordings: Recordings, urls: SiteUrls) -> str | None:
    storage = recordings.storage
    if key is None or not storage.stable_urls:
        return None
    try:
        return urls.absolute(storage.url_for(key)) if recordings.exists(key) else None
    except ValueError:  # an unsafe key: never published
        return None
