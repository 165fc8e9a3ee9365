"""One URL builder (vod.urls.SiteUrls) for views, pages, feeds, the exporter and templates."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from vod.config import Settings
from vod.urls import PATHS, PlayRange, SiteUrls
from vod.web.app import create_app

PARAMS = {"event": "an-event", "slug": "a-talk", "key": "a/b.mp4", "path": "vod.css", "year": 2024}


def test_site_urls_build_every_route_as_the_app_routes_it(settings: Settings) -> None:
    app = create_app(settings)
    named = set()
    for route in app.routes:
        assert isinstance(route, Route | Mount)
        assert route.name is not None
        params = {p: PARAMS[p] for p in route.param_convertors}
        if isinstance(route, Mount):
            params = {"path": PARAMS["path"]}
        assert SiteUrls().path(route.name, **params) == app.url_path_for(route.name, **params)
        named.add(route.name)
    assert named == set(PATHS)


@pytest.mark.parametrize("base", ["https://vod.example", "https://vod.example/"])
def test_site_urls_are_absolute_on_the_base(base: str) -> None:
    urls = SiteUrls(base)
    assert urls.talk("a-talk") == "https://vod.example/talks/a-talk"
    assert (
        urls.talk("a-talk", PlayRange(90, 120)) == "https://vod.example/talks/a-talk?t=90&end=120"
    )
    assert urls.embed("a-talk", PlayRange(90)) == "https://vod.example/embed/a-talk?t=90"
    assert urls.card("a-talk", 600) == "https://vod.example/cards/a-talk.png?w=600"
    assert urls.speaker("ann") == "https://vod.example/speakers/ann"
    assert urls.event("conf-2024") == "https://vod.example/events/conf-2024"
    assert urls.site_root() == "https://vod.example/"
    assert urls.url("oembed", {"url": "u"}) == "https://vod.example/oembed?url=u"
    assert urls.absolute("https://cdn.example/x.mp4") == "https://cdn.example/x.mp4"


def test_site_urls_on_a_base_with_a_path() -> None:
    assert SiteUrls("https://example.org/vod/").talk("t") == "https://example.org/vod/talks/t"
