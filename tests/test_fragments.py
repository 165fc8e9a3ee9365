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
    # A title marked by a search: the card is kept with a slot for the title, which each
    # search fills with its own marks.
    marked = cards(card, title_html="<mark>Training</mark> Arctic at Snowflake")
    assert "<mark>Training</mark> Arctic at Snowflake</a>" in marked and len(cards.kept) == 4
    other = cards(card, title_html="Training <mark>Arctic</mark> at Snowflake")
    assert "Training <mark>Arctic</mark> at Snowflake</a>" in other and len(cards.kept) == 4
    assert "<mark>Training</mark>" not in other and "vod-title-slot" not in other


def test_a_kept_card_with_a_title_slot_is_the_card_rendered_with_that_title(
    settings: Settings, bundled_catalog: Catalog
) -> None:
    env = make_templates(settings).env
    cards = env.globals["talk_card"]
    assert isinstance(cards, CardFragments)
    template = env.get_template("_talk_card.html")
    facts = CardFacts.plain(bundled_catalog)
    for talk in bundled_catalog.talks.values():
        card = talk_card(bundled_catalog, talk, facts)
        for marked in ("<mark>A</mark> b &amp; c", "x <mark>y</mark>"):
            for show_event in (True, False):
                expected = template.render(
                    card=card,
                    show_event=show_event,
                    show_day=True,
                    card_level=3,
                    title_html=marked,
                )
                assert cards(card, show_event=show_event, title_html=marked) == expected
