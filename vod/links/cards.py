"""Title cards: a 1200x630 PNG with the title, the recording's presenters and the event.

Link previews show it wherever the catalog gives no poster. Rendering takes a few tens of
milliseconds, so cards are kept in a small in-memory cache, and the ETag is computed from the
text alone: every host behind a CDN answers the same ETag, and a revalidation never renders.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from vod.catalog import UNTITLED
from vod.links.share import CARD_HEIGHT, CARD_WIDTH, event_dates, names, talk_date
from vod.lru import LruCache

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont, ImageFont

    from vod.catalog import Catalog, Event, Talk

# Bump when the drawing changes, so caches and ETags do not serve old cards.
RENDER_VERSION = "1"
# Fonts tried in order; Debian's fonts-dejavu-core provides the first two. Without any of
# them, Pillow's own default font (Pillow >= 10.1) draws the card.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/truetype/liberation"),
)
REGULAR_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
BOLD_FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf")
ITALIC_FONTS = ("DejaVuSans-Oblique.ttf", "LiberationSans-Italic.ttf")
CACHE_SIZE = 256  # cards kept in memory (about 40 kB each)

_BG = (16, 24, 40)
_ACCENT = (138, 180, 248)
_FG = (245, 247, 250)
_MUTED = (178, 185, 198)
_MARGIN = 88
_TEXT_WIDTH = CARD_WIDTH - 2 * _MARGIN
_BRAND = "▶ vod"


@dataclass(frozen=True)
class CardText:
    """What a title card says; nothing else goes into its pixels or its ETag."""

    title: str | None
    presenters: str
    event: str
    date: str

    @property
    def etag(self) -> str:
        digest = hashlib.blake2b(repr((RENDER_VERSION, self)).encode(), digest_size=16).hexdigest()
        return f'"{digest}"'


def card_text(catalog: Catalog, talk: Talk) -> CardText:
    """Collect a talk's card text: the presenters are the recording's, as in the video."""
    event = catalog.events[talk.event]
    presenters = names(catalog.people(talk.recording_speakers))
    return CardText(talk.title, presenters, event.name, talk_date(talk, event))


def event_card_text(catalog: Catalog, event: Event) -> CardText:
    """Collect an event's cover text: its name, its number of talks, where and when."""
    count = catalog.event_talk_count(event.slug)
    dates = event_dates(event)
    return CardText(
        event.name, f"{count} talk{'' if count == 1 else 's'}", event.location or "", dates
    )


@lru_cache(maxsize=32)
def _font(names: tuple[str, ...], size: int) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    for folder in FONT_DIRS:
        for name in names:
            path = folder / name
            if path.is_file():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: FreeTypeFont | ImageFont, width: int) -> list[str]:
    """Break `text` into lines no wider than `width`; a word too long is cut by characters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        while font.getlength(word) > width:
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _fit_lines(
    lines: list[str], font: FreeTypeFont | ImageFont, width: int, limit: int
) -> list[str]:
    if len(lines) <= limit:
        return lines
    last = " ".join(lines[limit - 1 :])
    while last and font.getlength(last + "…") > width:
        last = last[:-1].rstrip()
    return [*lines[: limit - 1], last + "…"]


def render_card(text: CardText, width: int = CARD_WIDTH) -> bytes:
    """Draw the card and return it as PNG bytes, `width` pixels wide (16:8.4, as 1200x630)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (CARD_WIDTH, CARD_HEIGHT), _BG)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 18, CARD_HEIGHT), fill=_ACCENT)

    brand = _font(BOLD_FONTS, 34)
    brand_width = int(brand.getlength(_BRAND))
    draw.text((CARD_WIDTH - _MARGIN - brand_width, 60), _BRAND, font=brand, fill=_ACCENT)

    small = _font(REGULAR_FONTS, 32)
    header = " · ".join(part for part in (text.event, text.date) if part)
    room = _TEXT_WIDTH - brand_width - 40
    header_lines = _fit_lines(_wrap(header, small, room), small, room, 1)
    draw.text((_MARGIN, 64), header_lines[0] if header_lines else "", font=small, fill=_MUTED)

    if text.title:
        title_lines: list[str] = []
        for size in (72, 64, 56, 48, 42):
            title_font = _font(BOLD_FONTS, size)
            title_lines = _wrap(text.title, title_font, _TEXT_WIDTH)
            if len(title_lines) <= 4:
                break
        title_lines = _fit_lines(title_lines, title_font, _TEXT_WIDTH, 4)
        colour = _FG
    else:
        size = 64
        title_font = _font(ITALIC_FONTS, size)
        title_lines = [UNTITLED]
        colour = _MUTED
    y = 150
    for line in title_lines:
        draw.text((_MARGIN, y), line, font=title_font, fill=colour)
        y += int(size * 1.2)

    people = _font(REGULAR_FONTS, 36)
    if text.presenters:
        lines = _fit_lines(_wrap(text.presenters, people, _TEXT_WIDTH), people, _TEXT_WIDTH, 2)
        y += 28
        for line in lines:
            draw.text((_MARGIN, y), line, font=people, fill=_FG)
            y += 46

    if width != CARD_WIDTH:
        height = round(width * CARD_HEIGHT / CARD_WIDTH)
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class CardCache:
    """The most recently asked-for cards, by ETag and width; safe across threads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._cards: LruCache[bytes] = LruCache(size)

    def get(self, text: CardText, width: int = CARD_WIDTH) -> bytes:
        # One render per card at a time: a post shared widely asks for its card many times.
        png, _kept = self._cards.get_or_make((text.etag, width), lambda: render_card(text, width))
        return png


# One cache per process: cards depend only on their text, whichever app asks.
CARDS = CardCache()
