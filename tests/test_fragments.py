"""Talk cards rendered once and kept (vod/web/fragments.py, issue #11)."""

from __future__ import annotations

from dataclasses import replace

from vod.catalog import Catalog
from vod.config import Settings
from vod.listing import CardFacts, talk_card
from vod.web.app import make_templates
from vod.web.fragments import CardFragments

SNOWFLAKE = "training-arctic-at-snowflake"


def test_a_card_is_rendered_once_per_way_it_is_shown(
    settings: Settings, bundled_catalog: Catalog
) -> None:
    cards = make_templates(settings).env.globals["talk_card"]
    assert isinstance(cards, CardFragments)
    card = talk_card(
        bundled_catalog, bundled_catalog.talks[SNOWFLAKE], CardFacts.plain(bundled_catalog)
    )
    first = cards(card, show_event=True)
    assert "Training Arctic at Snowflake" in first and "Systems @Scale 2024</a>" in first
    assert cards(card, show_event=True) is first  # kept
    assert len(cards.kept) == 1
    plain = cards(card)
    assert plain is not first and "Systems @Scale 2024</a>" not in plain
    # Another badge (the index now says the recording is missing) is another fragment.
    placeholder = cards(replace(card, badge="placeholder"), show_event=True)
    assert "Placeholder clip" in placeholder and "Placeholder clip" not in first
    # A title marked by a search is never kept: it depends on the query.
    marked = cards(card, title_html="<mark>Training</mark> Arctic at Snowflake")
    assert "<mark>Training</mark>" in marked and len(cards.kept) == 3
