"""The route table: every path of the site (vod.urls.PATHS) with the view that answers it."""

from __future__ import annotations

from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from vod.config import Settings
from vod.urls import PATHS, STATIC_PREFIX
from vod.web import admin, api, browse, html, links


def routes(settings: Settings) -> list[Route | Mount]:
    """Return the app's routes, specific paths first, each named as in PATHS."""
    return [
        Route(PATHS["home"], browse.home, name="home"),
        # Browsers ask for /favicon.ico where a document names no icon (feeds, the sitemap).
        Route(
            PATHS["favicon"],
            RedirectResponse(STATIC_PREFIX + "/favicon.svg", status_code=301),
            name="favicon",
        ),
        Route(PATHS["healthz"], admin.healthz, name="healthz"),
        Route(PATHS["admin_reindex"], admin.reindex, name="admin_reindex", methods=["GET", "POST"]),
        Route(PATHS["search"], html.search, name="search"),
        # Links bloggers use (issue #4): feeds, sitemap, oEmbed, title cards, chapters.
        Route(PATHS["feed"], links.site_feed, name="feed"),
        Route(PATHS["podcast"], links.site_podcast, name="podcast"),  # issue #14
        Route(PATHS["sitemap"], links.sitemap, name="sitemap"),
        Route(PATHS["oembed"], links.oembed_endpoint, name="oembed"),
        Route(PATHS["event_card"], links.event_card, name="event_card"),
        Route(PATHS["card"], links.card, name="card"),
        Route(PATHS["event_feed"], links.event_feed, name="event_feed"),
        Route(PATHS["event_podcast"], links.event_podcast, name="event_podcast"),
        Route(PATHS["speaker_feed"], links.speaker_feed, name="speaker_feed"),
        Route(PATHS["talk_chapters"], links.talk_chapters, name="talk_chapters"),
        Route(PATHS["event"], browse.event, name="event"),
        # Browse every talk (issue #11): /talks is no talk's page.
        Route(PATHS["talks"], browse.talks, name="talks"),
        Route(PATHS["talk"], html.talk, name="talk"),
        Route(PATHS["embed"], html.embed, name="embed"),
        Route(PATHS["speaker"], browse.speaker, name="speaker"),
        Route(PATHS["year"], html.year, name="year"),
        Route(PATHS["api_talks"], browse.api_talks, name="api_talks"),
        Route(PATHS["api_talk"], api.api_talk, name="api_talk"),
        Route(PATHS["api_event"], browse.api_event, name="api_event"),
        Route(PATHS["api_speaker"], browse.api_speaker, name="api_speaker"),
        Route(PATHS["api_year"], api.api_year, name="api_year"),
        Route(PATHS["api_search"], api.api_search, name="api_search"),
        Route(PATHS["api_suggest"], api.api_suggest, name="api_suggest"),
        Route(PATHS["media"], html.media, name="media", methods=["GET", "HEAD"]),
        Mount(STATIC_PREFIX, StaticFiles(directory=settings.static_dir), name="static"),
    ]
