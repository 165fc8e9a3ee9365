"""Rendered talk cards, kept: the same card appears on many list pages (issue #11).

A list page shows 48 cards; rendering them through Jinja2 was nine tenths of the page's time
(about 8 ms of 9 on the pyvideo catalog). A card's HTML depends only on the card and how it is
shown, so it is rendered once and kept in an LRU cache; a page then joins kept fragments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from vod.lru import LruCache

if TYPE_CHECKING:
    import jinja2

    from vod.listing import TalkCard

CARDS_KEPT = 8192  # rendered cards per worker (about 1.5 kB each)
CARD_TEMPLATE = "_talk_card.html"


class CardFragments:
    """Render talk cards with `_talk_card.html`, keeping each card's HTML for the next page."""

    def __init__(self, env: jinja2.Environment, size: int = CARDS_KEPT) -> None:
        self.env = env
        self.kept: LruCache[tuple[Any, Markup]] = LruCache(size)

    def __call__(
        self,
        card: TalkCard,
        show_event: bool = False,
        show_day: bool = True,
        card_level: int = 3,
        title_html: str = "",
    ) -> Markup:
        """Return the card's HTML; a card with a marked title (search) is never kept."""
        context = {
            "card": card,
            "show_event": show_event,
            "show_day": show_day,
            "card_level": card_level,
            "title_html": title_html,
        }
        if title_html:
            return Markup(self.env.get_template(CARD_TEMPLATE).render(context))
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
        )
        found = self.kept.get(key)
        if found is not None and found[0] is card.talk:
            return found[1]
        html = Markup(self.env.get_template(CARD_TEMPLATE).render(context))
        self.kept.put(key, (card.talk, html))
        return html
