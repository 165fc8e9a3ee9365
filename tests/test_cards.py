"""Talk cards written in Python (vod/web/cards.py): the markup `_talk_card.html` had.

The template the cards came from is kept below; each card of the bundled catalog, shown every
way pages show it and with every recording badge, must render as that template rendered it, up
to whitespace beside block elements and how a quote is escaped. Hostile catalog text must come
out escaped, as the template's autoescape escaped it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import jinja2
import pytest
from markupsafe import Markup

from vod.catalog import Catalog
from vod.index.snippets import SaidAt
from vod.listing import CardFacts, TalkCard, talk_card
from vod.pages import SearchHitCard
from vod.thumbnails import Thumbnail
from vod.timecode import format_clock
from vod.urls import SiteUrls
from vod.web.cards import card_html, hit_html, people_html

OLD_CARD_TEMPLATE = """\
{# One talk in a list, rendered by the `talk_card(...)` global (vod/web/fragments.py, which
   keeps the HTML). Receives `card` (pages.TalkCard), `card_level`: the heading level assistive
   technology hears, one below a session heading; `show_event` adds the event's name,
   `show_day` the day, `title_html` a title marked where a search matched. The title link covers the whole card (CSS), so the thumbnail is a link too
   without a second tab stop; the people and event links sit above it. #}
{% from "_people.html" import people with context %}
{% set level = card_level %}
{% set thumb = card.thumb %}
<article class="talk-card">
  {% if thumb %}
  <div class="thumb{% if thumb.is_card %} thumb-card{% endif %}">
    <img src="{{ thumb.src }}"{% if thumb.srcset %} srcset="{{ thumb.srcset }}" sizes="(max-width: 40rem) 92vw, 20rem"{% endif %}
         width="{{ thumb.width }}" height="{{ thumb.height }}" loading="lazy" decoding="async" alt="{{ thumb.alt }}">
    {% if card.length %}<span class="duration"><span class="visually-hidden">Length: </span>{{ card.length }}</span>{% endif %}
    {% if card.badge == 'placeholder' %}<span class="badge badge-placeholder">Placeholder clip</span>
    {% elif card.badge == 'not-recorded' %}<span class="badge badge-none">Not recorded</span>
    {% elif card.badge == 'elsewhere' %}<span class="badge badge-elsewhere" title="The recording is on {{ card.elsewhere }}">On {{ card.elsewhere }}</span>{% endif %}
  </div>
  {% endif %}
  <div class="card-body">
  <h3{% if level != 3 %} aria-level="{{ level }}"{% endif %}><a class="card-link{% if not card.talk.title %} untitled{% endif %}" href="{{ path_for('talk', slug=card.talk.slug) }}">{% if title_html %}{{ title_html|safe }}{% else %}{{ card.talk.display_title }}{% endif %}</a></h3>
  {% if card.teaser %}<p class="teaser">“{{ card.teaser }}”</p>{% endif %}
  <p class="meta">
    {% if card.talk.kind != 'talk' %}<span class="kind">{{ card.talk.kind|capitalize }}</span> · {% endif %}
    {% if show_event %}<a class="above" href="{{ path_for('event', event=card.event.slug) }}">{{ card.event.name }}</a> · {% endif %}
    {% if card.when %}<time datetime="{{ card.talk.start.isoformat() }}">{% if show_day %}{{ card.day }}, {% endif %}{{ card.when }}</time>{% else %}<time datetime="{{ (card.talk.day or card.event.start_date).isoformat() }}">{{ card.day }}</time>{% if card.pending %} · <span class="unknown">time not published yet</span>{% endif %}{% endif %}
  </p>
  {% if card.speakers %}
  <p class="people"><span class="label">{% if card.talk.recording_speakers_differ %}Live:{% else %}Presenters:{% endif %}</span> {{ people(card.speakers) }}</p>
  {% endif %}
  {% if card.talk.recording_speakers_differ %}
  <p class="people"><span class="label">In the recording:</span> {% if card.recording_speakers %}{{ people(card.recording_speakers) }}{% else %}<span class="unknown">not published</span>{% endif %}</p>
  {% endif %}
  {% if not card.speakers and not card.recording_speakers %}
  <p class="people unknown">Presenters not published</p>
  {% endif %}
  </div>
</article>
"""  # noqa: E501

OLD_PEOPLE_TEMPLATE = """\
{# A list of speakers as links; `people` is a sequence of Speaker. #}
{% macro people(list) -%}
{% for s in list %}<a href="{{ path_for('speaker', slug=s.slug) }}">{{ s.display_name }}</a>{% if s.company %} <span class="company">({{ s.company }})</span>{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}
"""  # noqa: E501

HOSTILE = '<script>alert("x")</script> O\'Reilly & <b>Sons</b>'


def _old_templates() -> jinja2.Environment:
    """The old card templates, in an environment set up as the app's (vod/web/app.py)."""
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {"_talk_card.html": OLD_CARD_TEMPLATE, "_people.html": OLD_PEOPLE_TEMPLATE}
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["path_for"] = SiteUrls().path
    env.filters["clock"] = format_clock
    return env


def _old_card(card: TalkCard, **shown: object) -> str:
    return _old_templates().get_template("_talk_card.html").render(card=card, **shown)


_BLOCK = re.compile(r"\s*(</?(?:article|div|p|h3|img|li)\b[^>]*>)\s*")


def _normal(html: str) -> str:
    """Whitespace beside block elements dropped, other runs of it one space; quotes alike."""
    html = html.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
    return _BLOCK.sub(r"\1", re.sub(r"\s+", " ", html)).strip()


def _variants(card: TalkCard) -> list[TalkCard]:
    return [
        card,
        replace(card, badge="placeholder", length="1:02:03"),
        replace(card, badge="not-recorded", length=""),
        replace(card, badge="elsewhere", elsewhere="video.example.org"),
        replace(card, pending=not card.pending),
        replace(card, thumb=None),
    ]


def test_every_card_is_the_old_templates_card(bundled_catalog: Catalog) -> None:
    facts = CardFacts.plain(bundled_catalog)
    compared = 0
    for talk in bundled_catalog.talks.values():
        for card in _variants(talk_card(bundled_catalog, talk, facts)):
            for show_event, show_day, level, title in itertools.product(
                (False, True), (False, True), (3, 4), ("", "<mark>A</mark> b &amp; c")
            ):
                shown = {
                    "show_event": show_event,
                    "show_day": show_day,
                    "card_level": level,
                    "title_html": title,
                }
                new = card_html(card, show_event, show_day, level, title)
                assert _normal(new) == _normal(_old_card(card, **shown)), (talk.slug, shown)
                compared += 1
    assert compared > 1000


def test_hostile_catalog_text_is_escaped_as_the_template_escaped_it(
    bundled_catalog: Catalog,
) -> None:
    facts = CardFacts.plain(bundled_catalog)
    talk = bundled_catalog.talks["training-arctic-at-snowflake"]
    card = talk_card(bundled_catalog, talk, facts)
    speakers = tuple(replace(s, name=HOSTILE, company=HOSTILE) for s in card.speakers)
    hostile = replace(
        card,
        talk=replace(talk, title=HOSTILE, kind="<i>panel</i>"),
        event=replace(card.event, name=HOSTILE),
        speakers=speakers,
        recording_speakers=speakers[:1],
        teaser=HOSTILE,
        length="<b>1:00</b>",
        badge="elsewhere",
        elsewhere='"><script>x</script>',
        thumb=Thumbnail(src='/x.png"><script>', srcset='a" onerror="x', kind="card", alt=HOSTILE),
    )
    new = card_html(hostile, show_event=True)
    assert _normal(new) == _normal(
        _old_card(hostile, show_event=True, show_day=True, card_level=3, title_html="")
    )
    assert "<script>" not in new and "<b>" not in new and "<i>" not in new
    assert 'onerror="' not in new and "&lt;script&gt;" in new


def test_people_are_links_with_their_companies(bundled_catalog: Catalog) -> None:
    talk = bundled_catalog.talks["training-arctic-at-snowflake"]
    people = bundled_catalog.people(talk.recording_speakers)
    html = people_html(people)
    assert html.count("<a href=") == len(people) == 2
    assert "Jeff Rasley" in html and "Hyungtae Kim" in html and html.count(", ") >= 1
    assert people_html([]) == ""


@pytest.mark.parametrize("level", [2, 4, 5])
def test_a_card_below_a_session_heading_says_its_level(
    bundled_catalog: Catalog, level: int
) -> None:
    card = talk_card(
        bundled_catalog,
        bundled_catalog.talks["training-arctic-at-snowflake"],
        CardFacts.plain(bundled_catalog),
    )
    assert f'<h3 aria-level="{level}">' in card_html(card, card_level=level)
    assert "<h3>" in card_html(card)


# search.html's macro for one result before cards.hit_html took its place.
OLD_HIT_MACRO = """\
    {% macro hit_item(hit) %}
      <li>
        {% set card = hit.card %}{{ talk_card(card, show_event=true, title_html=hit.title_html) }}
        {% set moment_href = path_for('talk', slug=card.talk.slug) ~ '?t=' ~ (hit.moment.start if hit.moment else 0) %}
        {% if hit.matched_in == 'transcript' and hit.moment %}
        <p class="snippet"><span class="label">Said at <a href="{{ moment_href }}">{{ hit.moment.start|clock }}</a> in the recording:</span> {{ hit.snippet|safe }}</p>
        {% else %}
        {# A title match is marked in the card's heading already: not said twice. #}
        {% if not (hit.matched_in == 'title' and hit.title_html) %}<p class="snippet">{% if hit.matched_in %}<span class="label">In the {{ hit.matched_in }}:</span> {% endif %}{{ hit.snippet|safe }}</p>{% endif %}
        {% if hit.moment %}<p class="moment"><span class="label">Said at <a href="{{ moment_href }}">{{ hit.moment.start|clock }}</a>:</span> {{ hit.moment.snippet|safe }}</p>{% endif %}
        {% endif %}
        {% if hit.via_recording %}<p class="via">Matched a presenter who appears in the recording, not in the live talk.</p>{% endif %}
      </li>
    {% endmacro %}
{{ hit_item(hit) }}"""  # noqa: E501


def _old_hit(hit: SearchHitCard) -> str:
    env = _old_templates()
    old_card = env.get_template("_talk_card.html")
    env.globals["talk_card"] = lambda card, **shown: Markup(
        old_card.render(card=card, show_day=True, card_level=3, **shown)
    )
    return env.from_string(OLD_HIT_MACRO).render(hit=hit)


@pytest.mark.parametrize("matched_in", ["abstract", "title", "transcript", "", "speakers"])
@pytest.mark.parametrize("moment", [None, SaidAt(3725, "we <mark>said</mark> it")])
@pytest.mark.parametrize("title_html", ["", "<mark>Training</mark> Arctic"])
@pytest.mark.parametrize("via_recording", [False, True])
def test_a_search_hit_is_the_old_macros_item(
    bundled_catalog: Catalog,
    matched_in: str,
    moment: SaidAt | None,
    title_html: str,
    via_recording: bool,
) -> None:
    card = talk_card(
        bundled_catalog,
        bundled_catalog.talks["training-arctic-at-snowflake"],
        CardFacts.plain(bundled_catalog),
    )
    hit = SearchHitCard(
        card,
        'a <mark>snippet</mark> &amp; "more"',
        matched_in,
        via_recording,
        1.5,
        moment,
        title_html,
    )
    new = hit_html(hit, lambda card, **shown: card_html(card, **shown))
    assert _normal(new) == _normal(_old_hit(hit))
    if matched_in == "transcript" and moment:
        assert "/talks/training-arctic-at-snowflake?t=3725" in new and "1:02:05" in new
