"""The site's URLs: its paths by route name, and SiteUrls, which builds every link from them.

The app's route table (vod/web/routes.py) is made from PATHS, so every link that pages, feeds,
oEmbed, the schedule export and the templates build names a route that exists, and the route
table is never searched to build one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from vod.errors import StorageUnavailable
from vod.providers import safe_origin
from vod.timecode import format_clock

if TYPE_CHECKING:
    from collections.abc import Iterable

    from vod.catalog import Talk
    from vod.storage import Playback, Recordings, Storage

STATIC_PREFIX = "/static"  # where the app mounts vod/static
# Every path of the site, by route name (the public surface: PRODUCT.md). The route table
# decides their order; `{key:path}` is a Starlette convertor (the key may hold slashes).
PATHS: dict[str, str] = {
    "home": "/",
    "favicon": "/favicon.ico",
    "healthz": "/healthz",
    "admin_reindex": "/admin/reindex",
    "search": "/search",
    "feed": "/feed.xml",
    "podcast": "/podcast.xml",
    "sitemap": "/sitemap.xml",
    "oembed": "/oembed",
    "event_card": "/cards/events/{event}.png",
    "card": "/cards/{slug}.png",
    "event_feed": "/events/{event}/feed.xml",
    "event_podcast": "/events/{event}/podcast.xml",
    "speaker_feed": "/speakers/{slug}/feed.xml",
    "talk_chapters": "/talks/{slug}/chapters.vtt",
    "event": "/events/{event}",
    "talks": "/talks",
    "talk": "/talks/{slug}",
    "embed": "/embed/{slug}",
    "speaker": "/speakers/{slug}",
    "year": "/years/{year}",
    "api_talks": "/api/talks",
    "api_talk": "/api/talks/{slug}",
    "api_event": "/api/events/{event}",
    "api_speaker": "/api/speakers/{slug}",
    "api_year": "/api/years/{year}",
    "api_search": "/api/search",
    "api_suggest": "/api/suggest",
    "media": "/media/{key:path}",
    "static": STATIC_PREFIX + "/{path}",
}
# The same paths as str.format templates: a convertor's name is no part of the path.
_FORMATS = {name: re.sub(r"\{(\w+):\w+\}", r"{\1}", path) for name, path in PATHS.items()}

# File suffixes of an external URL that is the video itself, not a page that plays it
# (a YouTube or Vimeo page URL must never be offered as an enclosure or contentUrl).
MEDIA_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".webm", ".mov", ".mkv", ".ogv", ".m3u8", ".mpd", ".mp3", ".m4a", ".ogg"}
)


@dataclass(frozen=True)
class PlayRange:
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


class SiteUrls:
    """Build the site's paths, and its absolute URLs on `base` (VOD_BASE_URL or the request's)."""

    def __init__(self, base: str = "") -> None:
        self.base = base.rstrip("/")

    def path(self, name: str, **params: Any) -> str:
        """Return the path of the route called `name` (KeyError for an unknown route)."""
        return _FORMATS[name].format(**params)

    def absolute(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base + path

    def url(self, name: str, query: dict[str, str] | None = None, **params: Any) -> str:
        url = self.absolute(self.path(name, **params))
        return f"{url}?{urlencode(query)}" if query else url

    def talk(self, slug: str, moment: PlayRange | None = None) -> str:
        return self.url("talk", moment.params() if moment else None, slug=slug)

    def embed(self, slug: str, moment: PlayRange | None = None) -> str:
        return self.url("embed", moment.params() if moment else None, slug=slug)

    def card(self, slug: str, width: int | None = None) -> str:
        return self.url("card", {"w": str(width)} if width else None, slug=slug)

    def speaker(self, slug: str) -> str:
        return self.url("speaker", slug=slug)

    def event(self, slug: str) -> str:
        return self.url("event", event=slug)

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
        return rec.url if _is_media_file(rec.url) else None
    return _public_media_url(rec.key, recordings, urls)


def public_playback_url(playback: Playback, storage: Storage, urls: SiteUrls) -> str | None:
    """Return what `public_recording_url` does, from what the player plays (no store lookup)."""
    if playback.status == "external" and playback.src:
        return playback.src if _is_media_file(playback.src) else None
    if playback.status == "ok" and playback.src and storage.stable_urls:
        return urls.absolute(playback.src)
    return None


def _is_media_file(url: str) -> bool:
    if safe_origin(url) is None:  # never published where it cannot be linked safely
        return False
    return PurePosixPath(urlsplit(url).path).suffix.lower() in MEDIA_SUFFIXES


def public_poster_url(talk: Talk, recordings: Recordings, urls: SiteUrls) -> str | None:
    """Return the catalog's poster as a stable public URL, or None (then the title card)."""
    poster = talk.recording.poster
    if not poster:
        return None
    if poster.startswith(("http://", "https://")):
        return poster if safe_origin(poster) is not None else None
    return _public_media_url(poster, recordings, urls)


def prefetch_media(talks: Iterable[Talk], recordings: Recordings) -> None:
    """Ask the store about every talk's recording and poster at once (one listing, not a HEAD
    per talk) before a feed or the sitemap publishes them."""
    if not recordings.storage.stable_urls:
        return  # nothing is published from a store without stable URLs: nothing to ask
    keys: list[str] = []
    for talk in talks:
        rec = talk.recording
        if rec.key:
            keys.append(rec.key)
        if rec.poster and not rec.poster.startswith(("http://", "https://")):
            keys.append(rec.poster)
    recordings.prefetch(keys)


def _public_media_url(key: str | None, recordings: Recordings, urls: SiteUrls) -> str | None:
    storage = recordings.storage
    if key is None or not storage.stable_urls:
        return None
    try:
        return urls.absolute(storage.url_for(key)) if recordings.exists(key) else None
    except ValueError:  # an unsafe key: never published
        return None
    except StorageUnavailable:  # the store is down: published again once it answers
        return None
