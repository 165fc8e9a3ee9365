"""Catalog URLs that no response may trip over (issue #10, item 2).

A recording URL is catalog data, and catalog data reaches headers: a PeerTube host goes into
the Content-Security-Policy's frame-src. An internationalised host once made every response a
500 (the header cannot be encoded), and a host with a comma injected a second policy. Here any
text in every URL field of a talk, its event and its speakers goes through every route.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from vod.catalog import Caption, Catalog, Link
from vod.config import Settings
from vod.providers import SAFE_ORIGIN, external_player, frame_sources, safe_origin
from vod.web.app import create_app

TALK = "training-arctic-at-snowflake"
PARAM_RE = re.compile(r"{(\w+)(?::\w+)?}")
# The directives vod's policy has; data must never add one.
CSP_DIRECTIVES = {
    "default-src",
    "img-src",
    "media-src",
    "style-src",
    "script-src",
    "connect-src",
    "object-src",
    "base-uri",
    "form-action",
    "frame-src",
    "frame-ancestors",
}
FIXED_SOURCES = {"'none'", "*"}


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://視頻.example/videos/watch/abcdefgh1234", "https://xn--yw2ak20a.example"),
        ("https://Tube.Example.org:8443/w/abcdefgh1234", "https://tube.example.org:8443"),
        ("https://evil.test,style-src/videos/watch/abcdefgh1234", None),
        ("https://evil.test;script-src/w/abcdefgh1234", None),
        ("https://user:pw@tube.example.org/w/abcdefgh1234", None),
        ("https://[/w/abcdefgh1234", None),
        ("https://tube.example.org:99999/w/abcdefgh1234", None),
        ("https:///w/abcdefgh1234", None),
        ("ftp://tube.example.org/w/abcdefgh1234", None),
        ("https://-bad-.example/w/abcdefgh1234", None),
    ],
)
def test_an_origin_reaches_a_header_only_idna_encoded_and_valid(
    url: str, origin: str | None
) -> None:
    assert safe_origin(url) == origin


def test_an_internationalised_peertube_host_is_framed_by_its_ascii_name() -> None:
    player = external_player("https://視頻.example/videos/watch/abcdefgh1234")
    assert player.provider == "peertube"
    assert player.embed_url == "https://xn--yw2ak20a.example/videos/embed/abcdefgh1234"
    assert player.note is None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test,style-src/videos/watch/abcdefgh1234",
        "https://[/w/abcdefgh1234",
        "https://tube.example.org:99999/w/abcdefgh1234",
    ],
)
def test_a_url_that_cannot_be_made_safe_is_only_linked_with_a_note(url: str) -> None:
    player = external_player(url)
    assert (player.provider, player.embed_url) == ("link", None)
    assert player.note


def _with_urls(catalog: Catalog, url: str, digest: str) -> Catalog:
    """The catalog with `url` in every URL field of one talk, its event and its speakers."""
    talk = catalog.talk(TALK)
    recording = dataclasses.replace(
        talk.recording,
        key=None,
        url=url,
        poster=url,
        captions=(Caption(lang="en", label="English", url=url),),
    )
    changed = dataclasses.replace(talk, recording=recording, links=(Link(title="Slides", url=url),))
    event = dataclasses.replace(catalog.events[talk.event], url=url)
    speakers = dict(catalog.speakers)
    for slug in {*talk.speakers, *talk.recording_speakers}:
        speakers[slug] = dataclasses.replace(speakers[slug], photo=url, url=url)
    return dataclasses.replace(
        catalog,
        talks={**catalog.talks, TALK: changed},
        events={**catalog.events, talk.event: event},
        speakers=speakers,
        digest=digest,
    )


@pytest.fixture(scope="module")
def url_client(settings: Settings, bundled_catalog: Catalog) -> Iterator[TestClient]:
    # The catalog is handed in, so the test may swap it; the index is the bundled one's.
    app = create_app(settings, catalog=bundled_catalog)
    with TestClient(app) as client:
        yield client


def _paths(client: TestClient, catalog: Catalog) -> list[str]:
    talk = catalog.talk(TALK)
    speaker = talk.speakers[0]
    event = catalog.events[talk.event]
    fill = {
        "slug": TALK,
        "event": event.slug,
        "year": str(event.year),
        "key": f"{event.slug}/{TALK}.mp4",
    }
    paths = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or isinstance(route, Mount):
            continue
        if "GET" not in (route.methods or {"GET"}):
            continue
        values = dict(fill, slug=speaker) if route.path.startswith("/speakers/") else fill
        paths.append(PARAM_RE.sub(lambda m: values.get(m.group(1), "x"), route.path))  # noqa: B023
    paths += [f"/oembed?url=http://testserver/talks/{TALK}", f"/talks/{TALK}?t=30&end=60"]
    return paths


def _check_headers(response: object, path: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    policies = headers.get_list("content-security-policy")
    assert len(policies) == 1, f"{path}: {policies}"
    directives = [d.strip() for d in policies[0].split(";") if d.strip()]
    names = [d.split()[0] for d in directives]
    assert set(names) == CSP_DIRECTIVES and len(names) == len(set(names)), f"{path}: {names}"
    frames = next(d for d in directives if d.startswith("frame-src ")).split()[1:]
    assert all(SAFE_ORIGIN.match(s) or s in FIXED_SOURCES for s in frames), f"{path}: {frames}"
    for name, value in headers.items():
        assert value.isascii() and "\r" not in value and "\n" not in value, (path, name)


hostile_url = st.one_of(
    st.builds(
        "{}{}".format,
        st.sampled_from(["https://", "http://", "https://tube.example.org/w/", ""]),
        st.text(max_size=40),
    ).map(lambda rest: rest + "/videos/watch/abcdefgh1234"),
    st.sampled_from(
        [
            "https://視頻.example/videos/watch/abcdefgh1234",
            "https://evil.test,style-src/videos/watch/abcdefgh1234",
            "https://evil.test;script-src 'unsafe-inline'/w/abcdefgh1234",
            "https://a\r\nSet-Cookie: x=1/w/abcdefgh1234",
            "https://[/w/abcdefgh1234",
            "https://h:99999/w/abcdefgh1234",
            "https://ex\u202eample.org/talk.mp4",
            "https://ex ample.org/talk.mp4",
        ]
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(url=hostile_url)
def test_any_text_in_url_fields_never_breaks_a_response_nor_a_header(
    url_client: TestClient, bundled_catalog: Catalog, url: str
) -> None:
    state = url_client.app_state["vod"]
    digest = f"hostile-{abs(hash(url))}"
    state.live_catalog.current = _with_urls(bundled_catalog, url, digest)
    try:
        frame_sources(state.live_catalog.current)
        for path in _paths(url_client, state.live_catalog.current):
            response = url_client.get(path, follow_redirects=False)
            assert response.status_code < 500, f"{path} -> {response.status_code} for {url!r}"
            _check_headers(response, path)
    finally:
        state.live_catalog.current = bundled_catalog


def test_the_talk_still_renders_with_a_note(
    url_client: TestClient, bundled_catalog: Catalog
) -> None:
    state = url_client.app_state["vod"]
    bad = "https://evil.test,style-src/videos/watch/abcdefgh1234"
    state.live_catalog.current = _with_urls(bundled_catalog, bad, "note-test")
    try:
        response = url_client.get(f"/talks/{TALK}")
    finally:
        state.live_catalog.current = bundled_catalog
    assert response.status_code == 200
    assert "not a valid web address" in response.text
    assert "evil.test" not in response.headers["content-security-policy"]
