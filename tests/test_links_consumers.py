"""Real consumers of vod's links, against the real `vod serve` on 127.0.0.1 (issue #4).

- oEmbedPy, an oEmbed consumer library, embeds a talk URL through discovery, over HTTP;
- feedparser subscribes to the feeds over HTTP (and revalidates with the ETag);
- headless Chromium loads a blog page served from another origin (another port) holding the
  copy-paste iframe snippet: the embedded player starts at `t`; a talk page refuses to be
  framed; a clip pauses at its end; "Share this moment" copies the link at the current time.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import feedparser
import pytest
from PIL import Image
from s3server import PLACEHOLDER, http_server, vod_serve
from test_e2e import browser
from test_links_feeds import KEYS, record

pytestmark = pytest.mark.e2e

__all__ = ["browser"]  # the module's Chromium, shared with tests/test_e2e.py's helpers

SAMPLE = Path(__file__).parent / "data" / "catalog"
KEYNOTE = "continuous-deployment-for-imaginary-services"  # 2700 s, chapters; the sample clip
STORED = "distributed-storage-without-tears"
STORED_KEY = f"testconf-2024/{STORED}.mp4"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`vod serve` on the test catalog, every talk's recording (the sample clip) in its media
    folder: consumers embed, subscribe to and play real recordings, never the placeholder
    (which vod no longer advertises as a video, issue #11)."""
    tmp = tmp_path_factory.mktemp("links-site")
    media = tmp / "media"
    record(media, [*KEYS.values(), "testconf-2023/escaping-untrusted-text.mp4"])
    with vod_serve(tmp, media_dir=media, env={"VOD_CATALOG": str(SAMPLE)}, name="links") as base:
        yield base


@contextlib.contextmanager
def blog(pages: dict[str, str]) -> Iterator[str]:
    """Serve `pages` (path -> HTML) from another origin: 127.0.0.1 on another port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: Any) -> None:
            pass

    with http_server(Handler) as base:
        yield base


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def embed_snippet(site: str, query: str) -> str:
    """The iframe snippet a blogger copies from the talk page (the textarea's text)."""
    page = fetch(f"{site}/talks/{KEYNOTE}?{query}")
    found = re.search(r'<textarea id="share-embed"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def blog_post(*embeds: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A blog</title>'
        "</head><body><h1>What I learned at TestConf</h1>"
        + "".join(f"<p>{e}</p>" for e in embeds)
        + "</body></html>"
    )


# ---- oEmbed: a consumer library, through discovery ------------------------------------------


def test_oembed_consumer_embeds_a_talk_url_through_discovery(site: str) -> None:
    from oembedpy import consumer, discovery
    from oembedpy.types import Video

    talk_url = f"{site}/talks/{KEYNOTE}?t=90"
    api_url, params = discovery.find_from_content(talk_url)
    assert api_url == f"{site}/oembed"
    assert params.url == talk_url and params.format == "json"
    content = consumer.fetch_content(api_url, params)
    assert isinstance(content, Video)
    assert content.title == "Continuous Deployment for Imaginary Services"
    assert content.author_name == "Ada Example"
    assert content.provider_name == "vod"
    assert (content.width, content.height) == (640, 360)
    assert f'src="{site}/embed/{KEYNOTE}?t=90"' in content.html
    assert content.thumbnail_url is not None
    with urllib.request.urlopen(content.thumbnail_url, timeout=10) as response:
        card = Image.open(io.BytesIO(response.read()))
    assert (card.format, card.size) == ("PNG", (content.thumbnail_width, content.thumbnail_height))


def test_oembed_consumer_reads_xml_and_honours_maxwidth(site: str) -> None:
    from oembedpy import consumer, discovery
    from oembedpy.types import Video

    api_url, params = discovery.find_from_content(f"{site}/talks/testconf-2024-keynote")
    # A post written before the talk was renamed links its former slug, at a moment.
    params.url = f"{site}/talks/keynote-2024?t=1m"
    params.format, params.max_width = "xml", 480
    content = consumer.fetch_content(api_url, params)
    assert isinstance(content, Video)
    assert content.title == "Keynote: Testing in Production"
    assert content.author_name == "Ada Example and Chloé Sample"
    assert (int(content.width), int(content.height)) == (480, 270)
    assert f'src="{site}/embed/testconf-2024-keynote?t=60"' in content.html


# ---- feeds: a feed reader over HTTP ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "first"),
    [
        ("/feed.xml", "streaming-from-elsewhere"),
        ("/events/testconf-2023/feed.xml", "escaping-untrusted-text"),
        ("/speakers/ada-example/feed.xml", "testconf-2024-keynote"),
    ],
)
def test_feed_reader_subscribes(site: str, path: str, first: str) -> None:
    feed = feedparser.parse(site + path)
    assert feed.status == 200 and not feed.bozo, feed.get("bozo_exception")
    assert feed.entries[0].link == f"{site}/talks/{first}"
    again = feedparser.parse(site + path, etag=feed.etag)
    assert again.status == 304


def test_feed_enclosure_plays(site: str) -> None:
    feed = feedparser.parse(f"{site}/events/testconf-2024/feed.xml")
    [entry] = [e for e in feed.entries if e.link.endswith(f"/talks/{STORED}")]
    [enclosure] = entry.enclosures
    assert enclosure.href == f"{site}/media/{STORED_KEY}"
    request = urllib.request.Request(enclosure.href, headers={"Range": "bytes=0-9"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206 and response.read() == PLACEHOLDER.read_bytes()[:10]


# ---- Chromium ---------------------------------------------------------------------------------


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
    finally:
        context.close()


def test_embedded_player_on_another_origin_starts_at_t(tab: Any, site: str) -> None:
    snippet = embed_snippet(site, "t=12")
    assert f'src="{site}/embed/{KEYNOTE}?t=12"' in snippet
    with blog({"/post": blog_post(snippet)}) as other:
        assert other.split(":")[-1] != site.split(":")[-1]  # another origin
        tab.goto(f"{other}/post", wait_until="load")
        frame = tab.frame(url=re.compile(r".*/embed/.*"))
        assert frame is not None
        frame.wait_for_function(
            "() => { const v = document.getElementById('player'); return v && v.readyState >= 1; }"
        )
        frame.locator("video#player").evaluate("v => { v.muted = true; return v.play(); }")
        frame.wait_for_function(
            "t => document.getElementById('player').currentTime >= t", arg=13, timeout=TIMEOUT_MS
        )
        state = frame.locator("video#player").evaluate(
            "v => ({t: v.currentTime, error: v.error && v.error.code})"
        )
        assert state["t"] >= 12 and state["error"] is None
        title = frame.locator(".embed-title a")
        assert title.get_attribute("href") == f"/talks/{KEYNOTE}"


def test_talk_page_refuses_to_be_framed(tab: Any, site: str) -> None:
    refused = f'<iframe src="{site}/talks/{KEYNOTE}" width="640" height="360"></iframe>'
    allowed = f'<iframe src="{site}/embed/{KEYNOTE}" width="640" height="360"></iframe>'
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    with blog({"/post": blog_post(refused, allowed)}) as other:
        tab.goto(f"{other}/post", wait_until="load")
        frames = {f.url: f for f in tab.frames if f != tab.main_frame}
        embed = frames.pop(f"{site}/embed/{KEYNOTE}")  # the control: embeds may be framed
        assert embed.locator("video#player").count() == 1
        [(url, blocked)] = frames.items()
        assert url == "chrome-error://chromewebdata/"  # Chromium's error page, not the talk
        text = blocked.evaluate("() => document.body ? document.body.innerText : ''")
        assert "Continuous Deployment" not in text
    assert any("frame-ancestors 'none'" in line for line in console), console


def test_clip_pauses_at_its_end(tab: Any, site: str) -> None:
    tab.goto(f"{site}/talks/{KEYNOTE}?t=2&end=4")
    assert tab.locator(".clip-bar .clip-label").inner_text() == "Clip 0:02–0:04"
    tab.locator("video#player").evaluate("v => { v.muted = true; return v.play(); }")
    tab.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return v.paused && v.currentTime >= 3.9; }"
    )
    assert 3.9 <= tab.locator("video#player").evaluate("v => v.currentTime") < 4.6


def test_share_this_moment_with_the_keyboard(tab: Any, site: str) -> None:
    tab.goto(f"{site}/talks/{KEYNOTE}")
    video = tab.locator("video#player")
    tab.wait_for_function("() => document.getElementById('player').readyState >= 1")
    video.evaluate("v => { v.currentTime = 7.6; }")
    tab.wait_for_function("() => document.getElementById('player').currentTime >= 7.5")
    button = tab.locator("#share-moment")
    assert button.is_visible() and button.inner_text() == "Share this moment"
    button.focus()
    tab.keyboard.press("Enter")
    link = f"{site}/talks/{KEYNOTE}?t=7"
    tab.wait_for_function("url => document.getElementById('share-link').value === url", arg=link)
    tab.wait_for_function(
        "() => document.querySelector('.share-status').textContent === 'Link to 0:07 copied.'"
    )
    assert tab.evaluate("navigator.clipboard.readText()") == link
    assert tab.locator("#share-cite").input_value().endswith(f", at 0:07. {link}")
    assert f'src="{site}/embed/{KEYNOTE}?t=7"' in tab.locator("#share-embed").input_value()
    assert tab.locator("#share-when").inner_text() == "These links start at 0:07."
    tab.locator("button[data-copy=share-cite]").click()
    tab.wait_for_function("() => document.querySelector('.share-status').textContent === 'Copied.'")
    assert tab.evaluate("navigator.clipboard.readText()").startswith("Ada Example. “Continuous")
