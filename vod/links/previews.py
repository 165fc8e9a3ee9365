"""Link previews: Open Graph and Twitter card tags, and the schema.org VideoObject (JSON-LD)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from vod.listing import event_site_video
from vod.urls import PlayRange

if TYPE_CHECKING:
    from vod.catalog import Event, Speaker, Talk
    from vod.storage import Playback

# Open Graph and Twitter show about this much of a description.
DESCRIPTION_CHARS = 300
# The player size previews announce for og:video and twitter:player (16:9).
PLAYER_WIDTH = 1280
PLAYER_HEIGHT = 720
SITE_NAME = "vod"
# Characters that must not appear raw inside <script>: `</script>` or `<!--` would end or
# change the element. JSON allows their \u escapes anywhere in a string.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


@dataclass(frozen=True)
class PreviewImage:
    """The image link previews show: the catalog's poster, or the generated title card."""

    url: str
    width: int | None
    height: int | None
    alt: str
    is_card: bool


def describe(talk: Talk, event: Event, limit: int = DESCRIPTION_CHARS) -> str:
    """A plain-text description: the abstract, shortened at a word; never invented."""
    text = " ".join((talk.abstract or "").split())
    if not text:
        return f"Recording of a talk at {event.name}."
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def iso_duration(seconds: int) -> str:
    """Format seconds as an ISO 8601 duration: `PT1H2M3S`, `PT24M13S`, `PT0S`."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs or text == "PT":
        text += f"{secs}S"
    return text


def upload_date(talk: Talk, event: Event) -> str:
    """When the talk was given: its start when published, else the event's first day."""
    return talk.start.isoformat() if talk.start else event.start_date.isoformat()


def plays_video(playback: Playback) -> bool:
    """Tell whether a page plays the talk's real recording, so previews may say "video".

    A placeholder clip is never advertised as the talk's video (issue #11), nor a recording
    that vod can only link to.
    """
    return not playback.is_placeholder and playback.provider != "link"


def meta_tags(
    talk: Talk, event: Event, canonical: str, embed_url: str | None, image: PreviewImage
) -> tuple[tuple[str, str, str], ...]:
    """Open Graph (`property`) and Twitter (`name`) tags, in the order they are written.

    Without an `embed_url` (a talk that was not recorded) the page is previewed as a page,
    with no player tags.
    """
    title = f"{talk.display_title} · {event.name}"
    description = describe(talk, event)
    tags: list[tuple[str, str, str]] = [
        ("property", "og:type", "video.other" if embed_url else "website"),
        ("property", "og:site_name", SITE_NAME),
        ("property", "og:title", title),
        ("property", "og:description", description),
        ("property", "og:url", canonical),
        ("property", "og:image", image.url),
    ]
    if image.url.startswith("https://"):
        tags.append(("property", "og:image:secure_url", image.url))
    if image.width and image.height:
        tags += [
            ("property", "og:image:width", str(image.width)),
            ("property", "og:image:height", str(image.height)),
        ]
    tags.append(("property", "og:image:alt", image.alt))
    if embed_url is None:
        tags += [
            ("name", "twitter:card", "summary_large_image"),
            ("name", "twitter:title", title),
            ("name", "twitter:description", description),
            ("name", "twitter:image", image.url),
            ("name", "twitter:image:alt", image.alt),
        ]
        return tuple(tags)
    tags.append(("property", "og:video", embed_url))
    if embed_url.startswith("https://"):
        tags.append(("property", "og:video:secure_url", embed_url))
    tags += [
        ("property", "og:video:type", "text/html"),
        ("property", "og:video:width", str(PLAYER_WIDTH)),
        ("property", "og:video:height", str(PLAYER_HEIGHT)),
    ]
    if talk.recording.duration:
        tags.append(("property", "video:duration", str(talk.recording.duration)))
    tags.append(("property", "video:release_date", upload_date(talk, event)))
    tags += [
        ("name", "twitter:card", "player"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", description),
        ("name", "twitter:image", image.url),
        ("name", "twitter:image:alt", image.alt),
        ("name", "twitter:player", embed_url),
        ("name", "twitter:player:width", str(PLAYER_WIDTH)),
        ("name", "twitter:player:height", str(PLAYER_HEIGHT)),
    ]
    return tuple(tags)


def talk_object(talk: Talk, event: Event, canonical: str, image: PreviewImage) -> dict[str, Any]:
    """The schema.org description of a talk whose recording does not play here: no video.

    A CreativeWork (the talk), with a pointer to where its real recording is published when
    the catalog links one (the event's own site).
    """
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "name": talk.display_title,
        "description": describe(talk, event, limit=5000),
        "image": image.url,
        "url": canonical,
        "dateCreated": upload_date(talk, event),
    }
    elsewhere = event_site_video(talk, event)
    if elsewhere is not None:
        data["sameAs"] = elsewhere.url
    return data


def video_object(
    talk: Talk,
    event: Event,
    presenters: Sequence[Speaker],
    canonical: str,
    embed_url: str,
    image: PreviewImage,
    content_url: str | None,
) -> dict[str, Any]:
    """The schema.org VideoObject of a talk, with its chapters as Clips and a SeekToAction."""
    duration = talk.recording.duration
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": talk.display_title,
        "description": describe(talk, event, limit=5000),
        "thumbnailUrl": [image.url],
        "uploadDate": upload_date(talk, event),
        "url": canonical,
        "embedUrl": embed_url,
    }
    if duration:
        data["duration"] = iso_duration(duration)
    if content_url:
        data["contentUrl"] = content_url
    actors = [{"@type": "Person", "name": s.name} for s in presenters if s.name]
    if actors:
        data["actor"] = actors
    recorded_at: dict[str, Any] = {
        "@type": "Event",
        "name": event.name,
        "startDate": event.start_date.isoformat(),
        "endDate": event.end_date.isoformat(),
    }
    if event.location:
        recorded_at["location"] = {"@type": "Place", "name": event.location}
    data["recordedAt"] = recorded_at
    chapters = talk.recording.chapters
    if chapters:
        clips = []
        for i, chapter in enumerate(chapters):
            clip: dict[str, Any] = {
                "@type": "Clip",
                "name": chapter.title,
                "startOffset": chapter.start,
                "url": _at(canonical, chapter.start),
            }
            end = chapters[i + 1].start if i + 1 < len(chapters) else duration
            if end and end > chapter.start:
                clip["endOffset"] = end
            clips.append(clip)
        data["hasPart"] = clips
    # Lets search engines link to any moment: they fill in the number of seconds.
    data["potentialAction"] = {
        "@type": "SeekToAction",
        "target": canonical + "?t={seek_to_second_number}",
        "startOffset-input": "required name=seek_to_second_number",
    }
    return data


def _at(canonical: str, seconds: int) -> str:
    query = PlayRange(seconds).params()
    return f"{canonical}?t={query['t']}" if query else canonical


def json_ld(data: dict[str, Any]) -> Markup:
    """Serialise `data` for a <script type="application/ld+json"> element, safely.

    Autoescaping would turn quotes into entities, which a script element does not decode, so
    the JSON goes in as markup, with every character that could end the element escaped.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(raw, escaped)
    return Markup(text)  # escaped above: no <, > or & remains
