"""Rendered talk cards, kept: the same card appears on many list pages (issue #11).

A list page shows 48 cards; rendering them through Jinja2 was nine tenths of the page's time
(about 8 ms of 9 on the pyvideo catalog). A card's HTML depends only on the card and how it is
shown, so it is rendered once (cards.py, in Python since issue #12) and kept in an LRU cache; a
page then joins kept fragments.

A search result's card has its title marked where the query matched: the card is kept with
TITLE_SLOT where the title goes, and each search puts its marked title there. The slot is an
element no rendered card can otherwise contain: every catalog text in a card is escaped, so its
`<` never reaches the HTML, and the marked title is the only markup let in.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from vod.lru import LruCache
from vod.web.cards import card_html

if TYPE_CHECKING:
    from vod.index.facets import Facet
    from vod.listing import TalkCard

CARDS_KEPT = 8192  # rendered cards per worker (about 1.5 kB each)
TITLE_SLOT = Markup("<vod-title-slot></vod-title-slot>")


class CardFragments:
    """Render talk cards (cards.card_html), keeping each card's HTML for the next page."""

    def __init__(self, size: int = CARDS_KEPT) -> None:
        self.kept: LruCache[tuple[Any, Markup]] = LruCache(size)

    def __call__(
        self,
        card: TalkCard,
        show_event: bool = False,
        show_day: bool = True,
        card_level: int = 3,
        title_html: str = "",
    ) -> Markup:
        """Return the card's HTML, with `title_html` (escaped, marked) as its title if given."""
        # The card's talk object names the catalog it came from; it is kept beside the HTML and
        # compared by identity, so a reused id() of a freed catalog never matches.
        key = (
            id(card.talk),
            card.badge,
            card.pending,
            card.thumb,
            show_event,
            show_day,
            card_level,
            bool(title_html),
        )
        found = self.kept.get(key)
        if found is not None and found[0] is card.talk:
            html = found[1]
        else:
            slot = TITLE_SLOT if title_html else ""
            html = Markup(card_html(card, show_event, show_day, card_level, slot))
            self.kept.put(key, (card.talk, html))
        if title_html:
            # str.replace: Markup.replace would escape the marked title (it is HTML already).
            return Markup(str.replace(html, TITLE_SLOT, title_html, 1))
        return html


def facet_choices(facet: Facet) -> Markup:
    """The checkboxes of one search facet's values (search.html's filter form).

    Written here rather than as a loop in the template: a search page lists about 40 values,
    and escaping five fields of each through Jinja (a Markup object per field) was a sixth of
    the page's rendering on pyvideo. Every text is escaped, quotes included.
    """
    name = html.escape(facet.name, quote=True)
    return Markup(
        "".join(
            f'<li><label><input type="checkbox" name="{name}" '
            f'value="{html.escape(v.key, quote=True)}"{" checked" if v.selected else ""}>\n'
            f"            {html.escape(v.label, quote=True)} "
            f'<span class="count" aria-hidden="true">({v.count:d})</span> '
            f'<span class="visually-hidden">{v.count:d} talk{"" if v.count == 1 else "s"}</span>'
            "</label></li>\n"
            for v in facet.values
        )
    )
