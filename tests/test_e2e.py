"""End to end: the real `vod serve` in a subprocess, driven by Debian's Chromium via Playwright.

Never runs `playwright install`: the browser is /usr/bin/chromium. Without it the tests skip,
unless VOD_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3server import PLACEHOLDER, MotoServer, moto_server, vod_serve

pytestmark = pytest.mark.e2e

__all__ = ["moto_server"]  # the shared session fixture, imported to be found here

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
# No recording anywhere: plays the placeholder. (Not the Snowflake talk: its real recording is on
# the event's site, so its page leads there and keeps the sample clip behind a click, issue #11.)
PLACEHOLDER_TALK = "systems-scale-2024-storage-for-llama-training"
ELSEWHERE_TALK = "training-arctic-at-snowflake"
RECORDED_TALK = "systems-scale-2024-keynote"  # its recording is in the media folder / bucket
RECORDED_KEY = f"systems-scale-2024/{RECORDED_TALK}.mp4"
TIMEOUT_MS = 10_000


def _no_browser(reason: str) -> None:
    if os.environ.get("VOD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and VOD_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(f"{reason}; install Debian's chromium package to run the end-to-end tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _no_browser(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test: no saved resume position leaks between tests.

    Tests ask for `page` first, so a missing browser skips them before any server starts.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`vod serve` on a local media folder holding the keynote's recording only."""
    tmp = tmp_path_factory.mktemp("e2e-local")
    media = tmp / "media"
    (media / RECORDED_KEY).parent.mkdir(parents=True)
    shutil.copyfile(PLACEHOLDER, media / RECORDED_KEY)
    with vod_serve(tmp, media_dir=media) as base:
        yield base


def play(page: Any) -> None:
    """Start the player the way a script may: muted, then play()."""
    page.locator("video#player").evaluate("v => { v.muted = true; return v.play(); }")


def wait_for_time(page: Any, seconds: float) -> float:
    """Wait until the player's currentTime reaches `seconds`; return it."""
    page.wait_for_function(
        "t => { const v = document.getElementById('player'); return v && v.currentTime >= t; }",
        arg=seconds,
        timeout=TIMEOUT_MS,
    )
    return float(page.locator("video#player").evaluate("v => v.currentTime"))


def player_state(page: Any) -> dict[str, Any]:
    return dict(
        page.locator("video#player").evaluate(
            "v => ({src: v.currentSrc, error: v.error && v.error.code, paused: v.paused,"
            " duration: v.duration})"
        )
    )


def assert_range_support(url: str) -> None:
    request = urllib.request.Request(url, headers={"Range": "bytes=0-99"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206, url
        assert response.read() == PLACEHOLDER.read_bytes()[:100]


def test_placeholder_plays(page: Any, site: str, tmp_path: Path) -> None:
    response = page.goto(f"{site}/talks/{PLACEHOLDER_TALK}")
    assert response is not None and response.status == 200
    note = page.locator(".placeholder-note")
    assert note.is_visible()
    assert "placeholder" in note.inner_text().lower()
    page.screenshot(path=str(tmp_path / "talk-page.png"), full_page=True)
    assert (tmp_path / "talk-page.png").stat().st_size > 0

    play(page)
    assert wait_for_time(page, 1.0) >= 1.0
    state = player_state(page)
    assert state["src"] == f"{site}/static/placeholder.mp4"
    assert state["error"] is None
    assert 29 < state["duration"] < 31


def test_start_at_t(page: Any, site: str) -> None:
    assert_range_support(f"{site}/static/placeholder.mp4")
    page.goto(f"{site}/talks/{PLACEHOLDER_TALK}?t=12")
    assert page.locator(".player").get_attribute("data-start") == "12"
    play(page)
    assert wait_for_time(page, 12.0) >= 12.0
    assert player_state(page)["error"] is None


def test_local_recording_plays_and_seeks(page: Any, site: str, tmp_path: Path) -> None:
    assert_range_support(f"{site}/media/{RECORDED_KEY}")
    page.goto(f"{site}/talks/{RECORDED_TALK}")
    assert page.locator(".placeholder-note").count() == 0
    page.screenshot(path=str(tmp_path / "recorded-talk.png"))
    play(page)
    assert wait_for_time(page, 1.0) >= 1.0
    assert player_state(page)["src"] == f"{site}/media/{RECORDED_KEY}"

    page.locator("video#player").evaluate("v => { v.currentTime = 20; }")
    assert wait_for_time(page, 20.0) >= 20.0
    assert player_state(page)["error"] is None


@pytest.mark.s3
def test_s3_recording_plays_from_presigned_url(
    page: Any, moto_server: MotoServer, tmp_path: Path
) -> None:
    bucket = moto_server.new_bucket()
    moto_server.upload(bucket, RECORDED_KEY)
    env = {"VOD_S3_BUCKET": bucket, "AWS_ENDPOINT_URL": moto_server.endpoint, "VOD_S3_TIMEOUT": "5"}
    with vod_serve(tmp_path, media_dir=tmp_path / "unused-media", env=env, name="vod-s3") as base:
        page.goto(f"{base}/talks/{RECORDED_TALK}")
        assert page.locator(".placeholder-note").count() == 0
        src = page.locator("video#player source").get_attribute("src")
        assert src is not None
        assert src.startswith(f"{moto_server.endpoint}/{bucket}/{RECORDED_KEY}?")
        assert "X-Amz-Signature=" in src
        play(page)
        assert wait_for_time(page, 1.0) >= 1.0
        state = player_state(page)
        assert state["src"].startswith(f"{moto_server.endpoint}/{bucket}/{RECORDED_KEY}?")
        assert state["error"] is None

        page.locator("video#player").evaluate("v => { v.currentTime = 20; }")
        assert wait_for_time(page, 20.0) >= 20.0

        # A talk not in the bucket still plays the placeholder from vod itself.
        page.goto(f"{base}/talks/{PLACEHOLDER_TALK}")
        assert page.locator(".placeholder-note").is_visible()


def test_recording_on_the_event_site_comes_first(page: Any, site: str) -> None:
    """The real recording's page is the primary action; the sample clip is one click away."""
    page.goto(f"{site}/talks/{ELSEWHERE_TALK}")
    watch = page.locator(".watch-elsewhere a.button")
    assert watch.is_visible()
    assert watch.inner_text().startswith("Watch on atscaleconference.com")
    assert watch.get_attribute("href") == (
        "https://atscaleconference.com/videos/training-arctic-at-snowflake/"
    )
    assert not page.locator("video#player").is_visible()
    page.locator("details.sample-clip summary").click()
    assert page.locator(".placeholder-note").is_visible()
    play(page)
    assert wait_for_time(page, 1.0) >= 1.0
    assert player_state(page)["src"] == f"{site}/static/placeholder.mp4"
