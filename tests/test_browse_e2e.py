"""Every page type in Chromium at desktop and phone widths: axe, console, sideways scroll.

A real `vod serve` of the bundled catalog (the keynote's recording in the media folder, every
other talk a placeholder). Each page is checked with axe-core (no serious or critical
violation), for console errors and warnings, and for sideways scrolling at 390 px; a screenshot
of each is saved under $VOD_SCREENSHOTS (default: the test's tmp folder) to be looked at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3server import PLACEHOLDER, vod_serve
from test_e2e import RECORDED_KEY, browser

pytestmark = pytest.mark.e2e

__all__ = ["browser"]  # the shared browser fixture, imported to be found here

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# One of each page type, named for its screenshot.
PAGES = {
    "home": "/",
    "browse": "/talks",
    "browse-sorted": "/talks?sort=title&recording=0",
    "event": "/events/systems-scale-2024",
    "talk-placeholder": "/talks/systems-scale-2024-storage-for-llama-training",
    "talk-elsewhere": "/talks/training-arctic-at-snowflake",
    "talk-recorded": "/talks/systems-scale-2024-keynote?t=30",
    "speaker": "/speakers/jeff-rasley",
    "search": "/search?q=training+scale",
    "search-empty": "/search",
    "year": "/years/2024",
    "not-found": "/talks/no-such-talk",
}
EMBED = "/embed/training-arctic-at-snowflake"
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("e2e-browse")
    media = tmp / "media"
    (media / RECORDED_KEY).parent.mkdir(parents=True)
    shutil.copyfile(PLACEHOLDER, media / RECORDED_KEY)
    with vod_serve(tmp, media_dir=media) as base:
        yield base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("VOD_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def visit(browser: Any, url: str, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    """Open `url` in a fresh context; return the context, the page and its console problems."""
    context = browser.new_context(viewport=viewport)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    problems: list[str] = []

    def note(message: Any) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    tab.on("console", note)
    tab.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    tab.goto(url, wait_until="load")
    # Lazy images below the fold load as the page scrolls; load them all, then look.
    tab.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    tab.wait_for_function("() => [...document.images].every(i => i.complete)")
    return context, tab, problems


def serious_violations(tab: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(tab).response
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in response["violations"]
        if v["impact"] in SERIOUS
    ]


def sideways(tab: Any) -> int:
    """How many pixels the page is wider than the window (0: no sideways scroll)."""
    return int(tab.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible_and_clean(
    browser: Any, site: str, shots: Path, name: str, viewport: dict[str, int]
) -> None:
    context, tab, problems = visit(browser, site + PAGES[name], viewport)
    try:
        width = viewport["width"]
        tab.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        assert serious_violations(tab) == []
        # A 404 page logs its own status as a console error in Chromium; nothing else may.
        expected = ["error: Failed to load resource: the server responded with a status of 404"]
        assert [p for p in problems if not any(p.startswith(e) for e in expected)] == []
        assert sideways(tab) <= 0
        broken = tab.evaluate("[...document.images].filter(i => !i.naturalWidth).map(i => i.src)")
        assert broken == []
    finally:
        context.close()


@pytest.mark.parametrize("size", [(640, 360), (320, 180)], ids=["640x360", "320x180"])
def test_embed_fits_its_frame(browser: Any, site: str, shots: Path, size: tuple[int, int]) -> None:
    """The embed page is complete inside a blog's iframe: nothing cut off, nothing to scroll."""
    width, height = size
    context, tab, problems = visit(browser, site + EMBED, {"width": width, "height": height})
    try:
        tab.screenshot(path=str(shots / f"embed-{width}x{height}.png"))
        assert serious_violations(tab) == []
        assert problems == []
        overflow = tab.evaluate(
            "[document.documentElement.scrollWidth - innerWidth,"
            " document.documentElement.scrollHeight - innerHeight]"
        )
        assert overflow[0] <= 0 and overflow[1] <= 0, overflow
        # The way to watch is on screen: the title link, and the link to the real recording.
        for selector in (".embed-title a", ".watch-elsewhere a"):
            box = tab.locator(selector).first.bounding_box()
            assert box is not None and box["y"] + box["height"] <= height, selector
    finally:
        context.close()


def test_embed_code_fits_a_phone_column_without_warnings(browser: Any, site: str) -> None:
    """The embed code a blogger copies, pasted into a 390 px page: fits, warns nothing."""
    context, tab, _ = visit(browser, site + PAGES["talk-elsewhere"], DESKTOP)
    try:
        snippet = tab.locator("#share-embed").input_value()
    finally:
        context.close()
    context = browser.new_context(viewport=PHONE)
    try:
        blog = context.new_page()
        warnings: list[str] = []
        blog.on("console", lambda m: warnings.append(m.text) if m.type != "log" else None)
        blog.set_content(
            "<!doctype html><meta name=viewport content='width=device-width'>"
            f"<body style='margin:0;padding:0 16px'><p>My post</p>{snippet}</body>"
        )
        frame = blog.locator("iframe")
        frame.wait_for()
        blog.wait_for_timeout(500)
        box = frame.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"] - 16 + 0.5
        assert abs(box["width"] / box["height"] - 16 / 9) < 0.02
        assert sideways(blog) <= 0
        assert [w for w in warnings if "allow" in w.lower()] == []
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/sitemap.xml", "/feed.xml"])
def test_xml_documents_open_without_console_errors(browser: Any, site: str, path: str) -> None:
    """A browser shows the sitemap and feeds with its XML viewer; no CSP error, no 404."""
    context, _, problems = visit(browser, site + path, DESKTOP)
    try:
        assert problems == []
    finally:
        context.close()


@pytest.mark.parametrize("name", ["search", "browse", "event", "speaker", "talk-elsewhere"])
def test_long_unbroken_words_wrap_on_a_phone(browser: Any, site: str, name: str) -> None:
    """Catalog text may hold a long URL or identifier (pyvideo abstracts do): every card, title,
    teaser and snippet wraps it instead of pushing the page sideways at 390 px."""
    context, tab, _ = visit(browser, site + PAGES[name], PHONE)
    try:
        touched = tab.evaluate(
            """() => {
                const long = ' https://example.org/' + 'averylongpathsegment'.repeat(15);
                const nodes = document.querySelectorAll(
                    'main h1, main h2, main h3, main p, main dd, main li > a, .snippet, .teaser');
                nodes.forEach(n => n.append(long));
                return nodes.length;
            }"""
        )
        assert touched > 0
        assert sideways(tab) <= 0
    finally:
        context.close()
