"""What the talk page offers to link with: the moment link, the citation, the iframe snippet,
the preview image, oEmbed discovery and the link-preview metadata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from vod.catalog import UNTITLED
from vod.links import previews
from vod.links.previews import PreviewImage
from vod.timecode import format_day
from vod.urls import PlayRange, SiteUrls, public_playback_url, public_poster_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vod.catalog import Event, Speaker, Talk
    from vod.storage import Playback, Recordings

# The iframe a blogger pastes: 16:9, the size most blog columns fit.
EMBED_WIDTH = 640
EMBED_HEIGHT = 360
# The generated title card's size: what Open Graph and Twitter previews expect.
CARD_WIDTH = 1200
CARD_HEIGHT = 630


@dataclass(frozen=True)
class TalkLinks:
    """Everything the talk page needs to be linked, cited, embedded and previewed."""

    canonical: str  # the permalink, without a moment
    moment: PlayRange
    share_url: str  # the permalink with the page's moment (?t=, &end=)
    embed_url: str
    embed_base: str  # the embed URL without a moment, for the "share this moment" script
    embed_snippet: str  # the iframe HTML, shown as text to copy
    citation: str
    cite_before: str  # the citation up to the moment and URL, for the "share this moment" script
    image: PreviewImage
    oembed_json: str
    oembed_xml: str
    event_feed: str
    chapters_vtt: str | None  # a path: the <track> must be same-origin
    meta: tuple[tuple[str, str, str], ...]  # (attribute, name, content) of each <meta>
    json_ld: Markup  # safe inside <script type="application/ld+json">


def names(people: Sequence[Speaker]) -> str:
    """Join names as people write them: `A`, `A and B`, `A, B and C`."""
    shown = [p.display_name for p in people]
    if len(shown) < 2:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def talk_date(talk: Talk, event: Event) -> str:
    """The talk's day when its time is published, else the event's dates."""
    first = talk.start.date() if talk.start else event.start_date
    if talk.start or event.start_date == event.end_date:
        return format_day(first, weekday=False)
    start, end = (format_day(d, weekday=False) for d in (event.start_date, event.end_date))
    return f"{start} – {end}"


def event_dates(event: Event) -> str:
    """The event's dates: `June 12, 2024`, or `May 3, 2019 – May 5, 2019`."""
    if event.start_date == event.end_date:
        return format_day(event.start_date, weekday=False)
    start, end = (format_day(d, weekday=False) for d in (event.start_date, event.end_date))
    return f"{start} – {end}"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!", "…")) else text + "."


def cite_before(talk: Talk, event: Event, presenters: Sequence[Speaker]) -> str:
    """The citation up to its moment: who is in the recording, title, event, date."""
    title = f"“{_sentence(talk.title)}”" if talk.title else f"[{UNTITLED}]."
    people = names(presenters)
    parts = [_sentence(people)] if people else []
    parts += [title, f"{event.name}, {talk_date(talk, event)}. Video"]
    return " ".join(parts)


def citation(before: str, moment: PlayRange, url: str) -> str:
    """Finish a citation: `…. Video, at 1:30. URL` (the player.js twin does the same)."""
    at = ""
    if moment.end:
        at = f", {moment.label}"
    elif moment.start:
        at = f", at {moment.label}"
    return f"{before}{at}. {url}"


# What an embedded player may do. `allow` alone: Chromium warns on every page that has both
# `allow="fullscreen"` and the legacy `allowfullscreen` attribute (issue #11).
EMBED_ALLOW = "autoplay; fullscreen; picture-in-picture"


def iframe(src: str, title: str, width: int = EMBED_WIDTH, height: int = EMBED_HEIGHT) -> str:
    """Return the iframe HTML that embeds a player at a fixed size, every value escaped."""
    return (
        f'<iframe src="{escape(src)}" width="{width}" height="{height}" '
        f'title="{escape(title)}" style="border:0" allow="{EMBED_ALLOW}"></iframe>'
    )


def responsive_iframe(src: str, title: str) -> str:
    """Return embed code that fills a blog's column at 16:9, up to 640 px wide, escaped.

    The wrapper's aspect-ratio keeps the shape at any width, so a 390 px phone column shows
    the whole player without sideways scrolling.
    """
    return (
        f'<div style="position:relative;max-width:{EMBED_WIDTH}px;aspect-ratio:16/9">'
        f'<iframe src="{escape(src)}" title="{escape(title)}" '
        'style="position:absolute;inset:0;width:100%;height:100%;border:0" '
        f'allow="{EMBED_ALLOW}"></iframe></div>'
    )


def embed_title(talk: Talk, event: Event) -> str:
    return f"{talk.display_title} · {event.name}"


def preview_image(talk: Talk, recordings: Recordings, urls: SiteUrls) -> PreviewImage:
    """The catalog's poster when it has a stable public URL, else the generated title card."""
    poster = public_poster_url(talk, recordings, urls)
    alt = f"{talk.display_title} – poster"
    if poster:
        return PreviewImage(poster, None, None, alt, is_card=False)
    alt = f"Title card: {talk.display_title}"
    return PreviewImage(urls.card(talk.slug), CARD_WIDTH, CARD_HEIGHT, alt, is_card=True)


def talk_links(
    talk: Talk,
    event: Event,
    presenters: Sequence[Speaker],
    moment: PlayRange,
    playback: Playback,
    recordings: Recordings,
    urls: SiteUrls,
) -> TalkLinks:
    """Build the share, cite, embed and preview data of a talk page.

    `presenters` are the people in the recording; `playback` is what its player plays (asked
    of the store once per page), from which the public URL of the video file comes.
    """
    canonical = urls.talk(talk.slug)
    share_url = urls.talk(talk.slug, moment)
    embed_url = urls.embed(talk.slug, moment)
    before = cite_before(talk, event, presenters)
    image = preview_image(talk, recordings, urls)
    content_url = public_playback_url(playback, recordings.storage, urls)
    oembed_for = share_url  # a moment link embeds at its moment
    # A `do_not_record` talk announces no video: no oEmbed discovery, no og:video, no
    # VideoObject (issue #10 item 9). Its page still shows the agenda slot. Nor does a talk
    # whose page plays the placeholder clip, or only links to its recording (issue #11).
    published = talk.published
    video = published and previews.plays_video(playback)
    return TalkLinks(
        canonical=canonical,
        moment=moment,
        share_url=share_url,
        embed_url=embed_url,
        embed_base=urls.embed(talk.slug),
        embed_snippet=responsive_iframe(embed_url, embed_title(talk, event)),
        citation=citation(before, moment, share_url),
        cite_before=before,
        image=image,
        oembed_json=urls.url("oembed", {"url": oembed_for, "format": "json"}) if published else "",
        oembed_xml=urls.url("oembed", {"url": oembed_for, "format": "xml"}) if published else "",
        event_feed=urls.url("event_feed", event=event.slug),
        chapters_vtt=(
            urls.path("talk_chapters", slug=talk.slug) if talk.recording.chapters else None
        ),
        meta=previews.meta_tags(talk, event, canonical, embed_url if video else None, image),
        json_ld=(
            previews.json_ld(
                previews.video_object(
                    talk, event, presenters, canonical, urls.embed(talk.slug), image, content_url
                )
                if video
                else previews.talk_object(talk, event, canonical, image)
            )
            if published
            else Markup("")
        ),
    )
