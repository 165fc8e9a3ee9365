"""Endpoints for links: oEmbed, title cards, chapters, feeds and the sitemap.

Thin, like vod.web.html: read the request, ask the modules beside this one, answer. They are
plain `def` functions (run in the thread pool): a card render or a store lookup may block.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from starlette.responses import Response

from vod.links import cards, chapters, feeds, oembed, podcast
from vod.links.previews import SITE_NAME, plays_video
from vod.listing import has_recording
from vod.web.middleware import etag, not_modified, weak_etag
from vod.web.responses import redirect_merged_speaker, redirect_old_slug
from vod.web.state import site_urls, vod_state

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.requests import Request

    from vod.catalog import Talk
    from vod.web.state import AppState

# Feeds and the sitemap change only with the catalog.
FEED_CACHE = "public, max-age=300"
# A card's URL stays while its text does; the ETag tells a CDN when it changed.
CARD_CACHE = "public, max-age=86400"
OEMBED_CACHE = "public, max-age=3600"
# How long a built sitemap is served again (new local recordings show up after this).
SITEMAP_TTL = 300.0
_sitemap_lock = threading.Lock()
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


def _conditional(request: Request, body: bytes, media_type: str, cache: str) -> Response:
    """Answer `body` with its ETag, or 304 when the client already has it."""
    headers = {"ETag": etag(body), "Cache-Control": cache}
    return not_modified(request, headers["ETag"], headers) or Response(
        body, media_type=media_type, headers=headers
    )


# ---- oEmbed ---------------------------------------------------------------------------------


def oembed_endpoint(request: Request) -> Response:
    """Answer an oEmbed request: 404 for a URL that is not our talk, 501 for a format."""
    state = vod_state(request)
    params = request.query_params
    fmt = params.get("format") or "json"
    if fmt not in oembed.FORMATS:
        return Response("format not supported: use json or xml", 501, media_type="text/plain")
    url = params.get("url", "")
    if not url:
        return Response("add the URL of a talk: /oembed?url=...", 400, media_type="text/plain")
    urls = site_urls(request)
    try:
        found = oembed.find_talk(url, state.catalog, urls, request.headers.get("host"))
    except oembed.OEmbedError as exc:
        return Response(str(exc), exc.status, media_type="text/plain")
    # A placeholder clip, or a recording vod only links to, is a link, not a video (#11).
    playback = state.recordings.playback(found.talk)
    data = oembed.answer(
        found,
        state.catalog,
        urls,
        oembed.dimension(params.get("maxwidth")),
        oembed.dimension(params.get("maxheight")),
        video=plays_video(playback),
    )
    headers = {"Cache-Control": OEMBED_CACHE, "Access-Control-Allow-Origin": "*"}
    if fmt == "xml":
        return Response(oembed.to_xml(data), media_type="text/xml; charset=utf-8", headers=headers)
    body = json.dumps(data, ensure_ascii=False).encode()
    return Response(body, media_type="application/json", headers=headers)


# ---- title cards and chapters -----------------------------------------------------------------


def card(request: Request) -> Response:
    """Serve a talk's title card PNG (?w= one of the widths oEmbed offers), with an ETag."""
    slug = request.path_params["slug"]
    if (moved := redirect_old_slug(request, "card", slug)) is not None:
        return moved
    state = vod_state(request)
    talk = state.catalog.talk(slug)
    return _card_png(request, cards.card_text(state.catalog, talk))


def event_card(request: Request) -> Response:
    """Serve an event's generated cover card PNG (?w= as for talks), with an ETag."""
    state = vod_state(request)
    event = state.catalog.event(request.path_params["event"])
    return _card_png(request, cards.event_card_text(state.catalog, event))


def _card_png(request: Request, text: cards.CardText) -> Response:
    """Answer with the card of `text` at the width asked for, or 304 when the client has it."""
    width = _card_width(request)
    # From the text, not the pixels: a revalidation never renders the card.
    headers = {
        "ETag": weak_etag(f"{text.etag.strip(chr(34))}-{width}"),
        "Cache-Control": CARD_CACHE,
    }
    if (unchanged := not_modified(request, headers["ETag"], headers)) is not None:
        return unchanged
    return Response(cards.CARDS.get(text, width), media_type="image/png", headers=headers)


def _card_width(request: Request) -> int:
    raw = request.query_params.get("w", "")
    width = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0
    return width if width in oembed.CARD_WIDTHS else oembed.CARD_WIDTHS[0]


def talk_chapters(request: Request) -> Response:
    """Serve a recording's chapters as a WebVTT chapters track; 404 when it has none."""
    slug = request.path_params["slug"]
    if (moved := redirect_old_slug(request, "talk_chapters", slug)) is not None:
        return moved
    talk = vod_state(request).catalog.talk(slug)
    if not talk.recording.chapters:
        return Response("this recording has no chapters", 404, media_type="text/plain")
    body = chapters.chapters_vtt(talk).encode()
    return _conditional(request, body, "text/vtt; charset=utf-8", FEED_CACHE)


# ---- feeds and the sitemap ----------------------------------------------------------------


def site_feed(request: Request) -> Response:
    state = vod_state(request)
    urls = site_urls(request)
    info = feeds.FeedInfo(
        title="vod: latest recordings",
        self_url=urls.url("feed"),
        page_url=urls.site_root(),
        subtitle="Conference talk recordings, newest first.",
    )
    talks = _recorded(state, state.catalog.talks.values())
    body = feeds.atom_feed(info, talks, state.catalog, state.recordings, urls)
    return _conditional(request, body, ATOM, FEED_CACHE)


def event_feed(request: Request) -> Response:
    state = vod_state(request)
    event = state.catalog.event(request.path_params["event"])
    urls = site_urls(request)
    info = feeds.FeedInfo(
        title=f"{event.name}: recordings",
        self_url=urls.url("event_feed", event=event.slug),
        page_url=urls.url("event", event=event.slug),
        subtitle=event.description or "",
    )
    talks = _recorded(state, state.catalog.event_talks(event.slug))
    body = feeds.atom_feed(info, talks, state.catalog, state.recordings, urls)
    return _conditional(request, body, ATOM, FEED_CACHE)


def speaker_feed(request: Request) -> Response:
    if moved := redirect_merged_speaker(request, "speaker_feed", request.path_params["slug"]):
        return moved
    state = vod_state(request)
    speaker = state.catalog.speaker(request.path_params["slug"])
    urls = site_urls(request)
    info = feeds.FeedInfo(
        title=f"{speaker.display_name}: talks",
        self_url=urls.url("speaker_feed", slug=speaker.slug),
        page_url=urls.url("speaker", slug=speaker.slug),
    )
    talks = _recorded(state, (role.talk for role in state.catalog.speaker_roles(speaker.slug)))
    body = feeds.atom_feed(info, talks, state.catalog, state.recordings, urls)
    return _conditional(request, body, ATOM, FEED_CACHE)


def _recorded(state: AppState, talks: Iterable[Talk]) -> list[Talk]:
    """The talks an Atom feed may announce: real recordings, never the placeholder (issue #11)."""
    unrecorded = state.search.unrecorded()
    return [t for t in talks if has_recording(t, unrecorded)]


def site_podcast(request: Request) -> Response:
    state = vod_state(request)
    urls = site_urls(request)
    info = feeds.FeedInfo(
        title="vod: talks to listen to",
        self_url=urls.url("podcast"),
        page_url=urls.site_root(),
        subtitle="The audio of every conference talk recorded here, newest first.",
    )
    talks = state.catalog.talks.values()
    body = podcast.podcast_feed(info, talks, state.catalog, state.recordings, urls, SITE_NAME)
    return _conditional(request, body, RSS, FEED_CACHE)


def event_podcast(request: Request) -> Response:
    state = vod_state(request)
    event = state.catalog.event(request.path_params["event"])
    urls = site_urls(request)
    info = feeds.FeedInfo(
        title=f"{event.name} (audio)",
        self_url=urls.url("event_podcast", event=event.slug),
        page_url=urls.url("event", event=event.slug),
        subtitle=event.description or f"The talks of {event.name}, to listen to.",
    )
    talks = state.catalog.event_talks(event.slug)
    body = podcast.podcast_feed(info, talks, state.catalog, state.recordings, urls, event.name)
    return _conditional(request, body, RSS, FEED_CACHE)


def sitemap(request: Request) -> Response:
    state = vod_state(request)
    urls = site_urls(request)
    unrecorded = state.search.unrecorded()  # kept per index version: its id names it
    key = (state.catalog.digest, urls.base, id(unrecorded))
    now = time.monotonic()
    with _sitemap_lock:  # kept on the app: each app has its own catalog and store
        cached = getattr(request.app.state, "links_sitemap", None)
    if cached is not None and cached[0] == key and now - cached[1] < SITEMAP_TTL:
        body = cached[2]
    else:
        # About a second for 20,000 talks: built once per catalog and site every few minutes.
        body = feeds.sitemap(state.catalog, state.recordings, urls, unrecorded)
        with _sitemap_lock:
            request.app.state.links_sitemap = (key, now, body)
    return _conditional(request, body, "application/xml; charset=utf-8", FEED_CACHE)
