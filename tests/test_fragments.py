"""Talk cards rendered once and kept (vod/web/fragments.py, issue #11)."""

from __future__ import annotations

from dataclasses import replace

from vod.catalog import Catalog
from vod.config import Settings
from vod.listing import CardFacts, talk_card
from vod.web.app import make_templates
from vod.web.cards import card_html
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
    bundled_catalog: Catalog,
) -> None:
    cards = CardFragments()
    facts = CardFacts.plain(bundled_catalog)
    for talk in bundled_catalog.talks.values():
        card = talk_card(bundled_catalog, talk, facts)
        for marked in ("<mark>A</mark> b &amp; c", "x <mark>y</mark>"):
            for show_event in (True, False):
                expected = card_html(card, show_event, title_html=marked)
                assert cards(card, show_event=show_event, title_html=marked) == expected


# search.html's facet loop before facet_choices() took its place: the same HTML is expected,
# up to how a quote is escaped (&#34; and &#39; there, &quot; and &#x27; here).
OLD_FACET_LOOP = """{% for v in facet.values %}
<li><label><input type="checkbox" name="{{ facet.name }}" value="{{ v.key }}"{% if v.selected %} checked{% endif %}>
            {{ v.label }} <span class="count" aria-hidden="true">({{ v.count }})</span> <span class="visually-hidden">{{ v.count }} talk{{ '' if v.count == 1 else 's' }}</span></label></li>
{% endfor %}"""  # noqa: E501


def test_facet_choices_are_the_templates_loop_escaped_alike() -> None:
    import jinja2

    from vod.index.facets import Facet, FacetValue
    from vod.web.fragments import facet_choices

    facet = Facet(
        'co"mpany',
        "Company",
        (
            FacetValue("meta", "Meta", 12, True),
            FacetValue('x"><script>alert(1)</script>', "<b>O'Reilly & Sons</b>", 1, False),
            FacetValue("", "", 0, False),
        ),
    )
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    old = env.from_string(OLD_FACET_LOOP).render(facet=facet)
    new = str(facet_choices(facet))
    assert new == old.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
    assert "<script>" not in new and "<b>" not in new
    assert new.count(" checked") == 1 and "1 talk</span>" in new and "12 talks</span>" in new
