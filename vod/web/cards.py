"""A talk card's HTML, written in Python: the card every list and search result shows.

A search page of distinct queries shows cards that are rarely kept from an earlier page (the
pyvideo catalog has 21,713 talks, more than a worker keeps); rendering a card through Jinja2
took 35 µs, and two cards in three were rendered again (issue #12). Written here, 11 µs.
Every catalog text is escaped (quotes included) with markupsafe's escape, as the template's
autoescape did; the only markup let in is `title_html`, which the caller has escaped and
marked already (a search's marked title, or fragments.TITLE_SLOT).

The markup is the one `_talk_card.html` had: tests/test_cards.py renders that template and
compares, card by card, so a change to the card is made here and in that test's copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import escape

from vod.timecode import format_clock
from vod.urls import SiteUrls

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from vod.catalog import Speaker
    from vod.listing import TalkCard
    from vod.pages import SearchHitCard

_path = SiteUrls().path

_BADGES = {
    "placeholder": '<span class="badge badge-placeholder">Placeholder clip</span>',
    "not-recorded": '<span class="badge badge-none">Not recorded</span>',
}


def card_html(
    card: TalkCard,
    show_event: bool = False,
    show_day: bool = True,
    card_level: int = 3,
    title_html: str = "",
) -> str:
    """The card of a talk in a list.

    `card_level` is the heading level assistive technology hears (one below a session
    heading); `show_event` adds the event's name, `show_day` the day. The title link covers
    the whole card (CSS), so the thumbnail is a link too without a second tab stop; the people
    and event links sit above it.
    """
    talk = card.talk
    out = ['<article class="talk-card">\n']
    thumb = card.thumb
    if thumb:
        srcset = (
            f' srcset="{escape(thumb.srcset)}" sizes="(max-width: 40rem) 92vw, 20rem"'
            if thumb.srcset
            else ""
        )
        out.append(
            f'  <div class="thumb{" thumb-card" if thumb.is_card else ""}">\n'
            f'    <img src="{escape(thumb.src)}"{srcset}'
            f' width="{escape(thumb.width)}" height="{escape(thumb.height)}" loading="lazy"'
            f' decoding="async" alt="{escape(thumb.alt)}">\n'
        )
        line = []
        if card.length:
            line.append(
                '<span class="duration"><span class="visually-hidden">Length: </span>'
                f"{escape(card.length)}</span>"
            )
        badge = _BADGES.get(card.badge)
        if badge:
            line.append(badge)
        elif card.badge == "elsewhere":
            host = escape(card.elsewhere)
            line.append(
                f'<span class="badge badge-elsewhere" title="The recording is on {host}">'
                f"On {host}</span>"
            )
        if line:
            out.append(f"    {''.join(line)}\n")
        out.append("  </div>\n")
    level = "" if card_level == 3 else f' aria-level="{escape(card_level)}"'
    untitled = "" if talk.title else " untitled"
    href = escape(_path("talk", slug=talk.slug))
    title = title_html or escape(talk.display_title)
    out.append(
        '  <div class="card-body">\n'
        f'  <h3{level}><a class="card-link{untitled}" href="{href}">{title}</a></h3>\n'
    )
    if card.teaser:
        out.append(f'  <p class="teaser">“{escape(card.teaser)}”</p>\n')
    meta = []
    if talk.kind != "talk":
        meta.append(f'<span class="kind">{escape(talk.kind.capitalize())}</span> · ')
    if show_event:
        event_href = escape(_path("event", event=card.event.slug))
        meta.append(f'<a class="above" href="{event_href}">{escape(card.event.name)}</a> · ')
    if card.when and talk.start:
        day = f"{escape(card.day)}, " if show_day else ""
        meta.append(
            f'<time datetime="{escape(talk.start.isoformat())}">{day}{escape(card.when)}</time>'
        )
    else:
        held = talk.day or card.event.start_date
        meta.append(f'<time datetime="{escape(held.isoformat())}">{escape(card.day)}</time>')
        if card.pending:
            meta.append(' · <span class="unknown">time not published yet</span>')
    out.append(f'  <p class="meta">{"".join(meta)}</p>\n')
    differ = talk.recording_speakers_differ
    if card.speakers:
        label = "Live:" if differ else "Presenters:"
        out.append(
            f'  <p class="people"><span class="label">{label}</span> '
            f"{people_html(card.speakers)}</p>\n"
        )
    if differ:
        shown = (
            people_html(card.recording_speakers)
            if card.recording_speakers
            else '<span class="unknown">not published</span>'
        )
        out.append(
            f'  <p class="people"><span class="label">In the recording:</span> {shown}</p>\n'
        )
    if not card.speakers and not card.recording_speakers:
        out.append('  <p class="people unknown">Presenters not published</p>\n')
    out.append("  </div>\n</article>\n")
    return "".join(out)


def people_html(people: Sequence[Speaker]) -> str:
    """Speakers as links to their pages, each with their company, separated by commas."""
    return ", ".join(
        f'<a href="{escape(_path("speaker", slug=s.slug))}">{escape(s.display_name)}</a>'
        + (f' <span class="company">({escape(s.company)})</span>' if s.company else "")
        for s in people
    )


def hit_html(hit: SearchHitCard, cards: Callable[..., str]) -> str:
    """One search result: its card (from `cards`, the kept cards) and why it matched.

    The snippet says where the words were found, or when they were said in the recording; a
    title match is marked in the card's heading and not said twice.
    """
    card = hit.card
    out = ["<li>\n", str(cards(card, show_event=True, title_html=hit.title_html)), "\n"]
    moment = hit.moment
    start = moment.start if moment else 0
    moment_href = escape(f"{_path('talk', slug=card.talk.slug)}?t={start}")
    if hit.matched_in == "transcript" and moment:
        out.append(
            '<p class="snippet"><span class="label">Said at '
            f'<a href="{moment_href}">{escape(format_clock(moment.start))}</a> in the recording:'
            f"</span> {hit.snippet}</p>\n"
        )
    else:
        if not (hit.matched_in == "title" and hit.title_html):
            label = (
                f'<span class="label">In the {escape(hit.matched_in)}:</span> '
                if hit.matched_in
                else ""
            )
            out.append(f'<p class="snippet">{label}{hit.snippet}</p>\n')
        if moment:
            out.append(
                '<p class="moment"><span class="label">Said at '
                f'<a href="{moment_href}">{escape(format_clock(moment.start))}</a>:</span> '
                f"{moment.snippet}</p>\n"
            )
    if hit.via_recording:
        out.append(
            '<p class="via">Matched a presenter who appears in the recording, not in the live'
            " talk.</p>\n"
        )
    out.append("</li>\n")
    return "".join(out)
