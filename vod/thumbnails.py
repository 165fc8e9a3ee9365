"""Thumbnails of talks for cards: each resolved once, from what is loaded, never asking a store.

Every talk gets one (issue #11), chosen in this order:
1. the poster the media pipeline made from the recording (the media manifest), when present;
2. the catalog's `recording.poster` (the pyvideo import keeps YouTube's for almost every talk);
3. a poster derivable from the provider without a network call: YouTube (`i.ytimg.com/vi/ID/`)
   and the Internet Archive (`archive.org/services/img/ID`). Vimeo and PeerTube name their
   images with ids their API gives, so they need a call and are skipped;
4. the talk's generated title card (`/cards/{slug}.png`), so no card is ever without one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlsplit

from vod.providers import external_player

if TYPE_CHECKING:
    from vod.catalog import Catalog, Event, Talk

ThumbnailKind = Literal["media", "poster", "provider", "card"]

# The box every card thumbnail is drawn in (16:9): width and height attributes reserve it, so
# nothing shifts while images load; CSS scales it to the card (object-fit: cover).
THUMB_WIDTH = 480
THUMB_HEIGHT = 270
# Title card widths offered in srcset (all among the widths /cards/ renders; see oembed).
CARD_SRCSET_WIDTHS = (320, 480, 640)
# YouTube's always-present sizes: mqdefault is 16:9; hqdefault is 4:3 with bars above and
# below, which object-fit: cover crops off exactly. maxresdefault is missing for many videos.
YOUTUBE_SIZES = (("mqdefault", 320), ("hqdefault", 480))
_YTIMG = re.compile(r"^/vi(?:_webp)?/([A-Za-z0-9_-]{11})/")
_YTIMG_HOSTS = re.compile(r"^(?:i\d?\.ytimg\.com|img\.youtube\.com)$")
UNTITLED = "Title not published"


@dataclass(frozen=True)
class Thumbnail:
    """The image a card shows: its URL, the sizes it comes in, and what it is."""

    src: str
    srcset: str  # "" when only one size exists
    kind: ThumbnailKind
    alt: str
    width: int = THUMB_WIDTH
    height: int = THUMB_HEIGHT

    @property
    def is_card(self) -> bool:
        return self.kind == "card"


def _youtube(video: str) -> tuple[str, str]:
    base = f"https://i.ytimg.com/vi/{video}/"
    srcset = ", ".join(f"{base}{name}.jpg {width}w" for name, width in YOUTUBE_SIZES)
    return base + "hqdefault.jpg", srcset


def _from_url(url: str) -> tuple[str, str] | None:
    """A poster URL as (src, srcset): YouTube's in card sizes; other https images as they are."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if _YTIMG_HOSTS.match(host) and (m := _YTIMG.match(parts.path)):
        return _youtube(m.group(1))
    # The pages' CSP (img-src https:) and mixed-content rules block plain http images.
    if parts.scheme != "https" or not host:
        return None
    return url, ""


def provider_poster(url: str) -> tuple[str, str] | None:
    """Derive a poster from a recording URL without asking anyone; None when it cannot be."""
    try:
        player = external_player(url)
    except ValueError:
        return None
    if player.provider == "youtube" and player.embed_url:
        return _youtube(player.embed_url.rsplit("/", 1)[1])
    if player.provider == "archive.org" and player.embed_url:
        item = player.embed_url.rsplit("/embed/", 1)[1].split("/")[0]
        return f"https://archive.org/services/img/{item}", ""
    return None


def resolve(
    talk: Talk,
    card_path: str,
    media_poster: str | None = None,
    store_url: Callable[[str], str | None] | None = None,
) -> Thumbnail:
    """Choose a talk's thumbnail (see the module's docstring for the order)."""
    title = talk.title or UNTITLED
    if media_poster:
        return Thumbnail(media_poster, "", "media", f"Frame from the recording of {title}")
    entry = talk.recording.media  # `vod media`'s manifest, merged into the catalog (issue #14)
    if entry is not None and entry.poster_small and store_url is not None:
        small = store_url(entry.poster_small)
        large = store_url(entry.poster) if entry.poster else None
        if small:
            # The two sizes `vod media` makes (vod/media/make.py): 480 and 1280 pixels wide.
            srcset = f"{small} 480w, {large} 1280w" if large else ""
            return Thumbnail(small, srcset, "media", f"Frame from the recording of {title}")
    poster = talk.recording.poster
    if poster:
        found = (
            _from_url(poster)
            if poster.startswith(("http://", "https://"))
            else ((url, "") if store_url and (url := store_url(poster)) else None)
        )
        if found:
            return Thumbnail(found[0], found[1], "poster", f"Poster of {title}")
    if talk.recording.url and (derived := provider_poster(talk.recording.url)):
        return Thumbnail(derived[0], derived[1], "provider", f"Poster of {title}")
    srcset = ", ".join(f"{card_path}?w={w} {w}w" for w in CARD_SRCSET_WIDTHS)
    return Thumbnail(f"{card_path}?w={THUMB_WIDTH}", srcset, "card", f"Title card: {title}")


def event_card(event: Event, cards: str = "/cards/events") -> Thumbnail:
    """An event's generated cover card (`/cards/events/{event}.png`), in several sizes."""
    path = f"{cards}/{quote(event.slug)}.png"
    srcset = ", ".join(f"{path}?w={w} {w}w" for w in CARD_SRCSET_WIDTHS)
    return Thumbnail(f"{path}?w={THUMB_WIDTH}", srcset, "card", f"Cover card of {event.name}")


class Thumbnails:
    """Every talk's thumbnail for one catalog and media manifest, each resolved when first asked.

    Resolving all 21,713 talks of a large catalog at once took 0.16-0.57 s, paid by the first
    page after every catalog or manifest reload; a page resolves only its own cards (about
    0.03 ms each), then keeps them. Safe across threads: resolving is pure, and two threads
    racing on one talk keep the same first answer.
    """

    def __init__(
        self,
        catalog: Catalog,
        card_path: Callable[[str], str] = lambda slug: f"/cards/{quote(slug)}.png",
        media_posters: Mapping[str, str] | None = None,
        store_url: Callable[[str], str | None] | None = None,
    ) -> None:
        self.digest = catalog.digest
        self._talks = catalog.talks
        self._card_path = card_path
        self._posters = media_posters or {}
        self._store_url = store_url
        self._by_slug: dict[str, Thumbnail] = {}

    def __getitem__(self, slug: str) -> Thumbnail:
        thumb = self._by_slug.get(slug)
        if thumb is None:
            talk = self._talks[slug]  # KeyError for a talk the catalog does not have
            fresh = resolve(talk, self._card_path(slug), self._posters.get(slug), self._store_url)
            # setdefault is atomic on a dict: a racing thread's answer, if first, is kept.
            thumb = self._by_slug.setdefault(slug, fresh)
        return thumb

    def __len__(self) -> int:
        return len(self._talks)


_default: tuple[Catalog, Thumbnails] | None = None
_default_lock = threading.Lock()


def for_catalog(catalog: Catalog) -> Thumbnails:
    """The thumbnails of `catalog` without a store or a manifest (pages built outside an app)."""
    global _default
    cached = _default
    if cached is not None and cached[0] is catalog:
        return cached[1]
    with _default_lock:
        table = Thumbnails(catalog)
        _default = (catalog, table)
    return table
