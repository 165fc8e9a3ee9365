"""The oEmbed provider (https://oembed.com): a talk URL in, a `video` embed out, JSON or XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from vod.links.share import CARD_HEIGHT, CARD_WIDTH, EMBED_HEIGHT, EMBED_WIDTH, iframe, names
from vod.timecode import clip_bounds, parse_moment
from vod.urls import PlayRange, SiteUrls

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk

FORMATS = ("json", "xml")
# How long a consumer may keep an answer: titles and presenters rarely change.
CACHE_AGE = 86400
# Widths the title card is rendered at; a thumbnail is the largest that fits maxwidth/maxheight.
CARD_WIDTHS = (1200, 960, 640, 480, 320, 240, 160)
# The largest maxwidth or maxheight worth reading; anything bigger changes nothing.
MAX_DIMENSION = 10_000
_TALK_PATH = re.compile(r"^/(?:talks|embed)/([^/]+)/?$")


class OEmbedError(Exception):
    """A request the provider cannot answer; `status` is the HTTP status the spec asks for."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Embed:
    """A talk found from a URL, with the moment the URL asked for."""

    talk: Talk
    moment: PlayRange


def dimension(raw: str | None) -> int | None:
    """Read maxwidth/maxheight: a whole number from 1; anything else means no limit."""
    if raw is None or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw[:6])
    return min(value, MAX_DIMENSION) if value >= 1 else None


def find_talk(url: str, catalog: Catalog, urls: SiteUrls, request_host: str | None) -> Embed:
    """Find the talk a URL points at (current or former slug); raise OEmbedError(404) if none."""
    if not url or len(url) > 2000 or not urls.is_ours(url, request_host):
        raise OEmbedError(404, "not a talk on this site")
    parts = urlsplit(url)
    path = parts.path
    prefix = urlsplit(urls.base).path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    match = _TALK_PATH.match(path)
    if match is None:
        raise OEmbedError(404, "not a talk on this site")
    slug = unquote(match.group(1))
    slug = catalog.redirect_for(slug) or slug
    talk = catalog.talks.get(slug)
    if talk is None:
        raise OEmbedError(404, "no such talk")
    if not talk.published:
        raise OEmbedError(404, "this talk was not recorded")
    query = parse_qs(parts.query)
    start = parse_moment((query.get("t") or [""])[0])
    end = parse_moment((query.get("end") or [""])[0])
    start, end = clip_bounds(talk.recording.duration, start, end)
    return Embed(talk, PlayRange(start, end))


def fit(maxwidth: int | None, maxheight: int | None, width: int, height: int) -> tuple[int, int]:
    """Scale `width`x`height` down, keeping its shape, until it fits both limits."""
    scale = min(1.0, (maxwidth or width) / width, (maxheight or height) / height)
    return max(1, int(width * scale)), max(1, int(height * scale))


def answer(
    embed: Embed,
    catalog: Catalog,
    urls: SiteUrls,
    maxwidth: int | None = None,
    maxheight: int | None = None,
    *,
    video: bool = True,
) -> dict[str, Any]:
    """Build the oEmbed response for a talk, within maxwidth and maxheight.

    `video` when the talk's real recording plays here; otherwise the answer is a `link` (with
    the title card as its thumbnail): a placeholder clip is never offered as the talk's video.
    """
    talk = embed.talk
    event = catalog.events[talk.event]
    presenters = catalog.people(talk.recording_speakers if video else talk.speakers)
    width, height = fit(maxwidth, maxheight, EMBED_WIDTH, EMBED_HEIGHT)
    title = talk.display_title
    data: dict[str, Any] = {
        "version": "1.0",
        "type": "video" if video else "link",
        "title": title,
    }
    if presenters:
        data["author_name"] = names(presenters)
        if len(presenters) == 1:
            data["author_url"] = urls.url("speaker", slug=presenters[0].slug)
    data.update(
        {
            "provider_name": "vod",
            "provider_url": urls.site_root(),
            "cache_age": CACHE_AGE,
        }
    )
    if video:
        data["html"] = iframe(
            urls.embed(talk.slug, embed.moment), f"{title} · {event.name}", width, height
        )
        data["width"] = width
        data["height"] = height
    thumb = _card_width(maxwidth, maxheight)
    if thumb is not None:
        data["thumbnail_url"] = urls.card(talk.slug, None if thumb == CARD_WIDTH else thumb)
        data["thumbnail_width"] = thumb
        data["thumbnail_height"] = card_height(thumb)
    return data


def card_height(width: int) -> int:
    return round(width * CARD_HEIGHT / CARD_WIDTH)


def _card_width(maxwidth: int | None, maxheight: int | None) -> int | None:
    # The spec: "The thumbnail must respect any maxwidth and maxheight parameters".
    for width in CARD_WIDTHS:
        if width <= (maxwidth or width) and card_height(width) <= (maxheight or CARD_HEIGHT):
            return width
    return None


def to_xml(data: dict[str, Any]) -> bytes:
    """Serialise a response as the spec's XML: one element per field, text escaped."""
    root = ET.Element("oembed")
    for name, value in data.items():
        ET.SubElement(root, name).text = str(value)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n' + body).encode()
