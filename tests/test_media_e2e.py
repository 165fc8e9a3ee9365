"""The seek preview and quality menu in a real browser (issue #14): `vod media` runs on a
recording, then the real `vod serve` is driven by Debian's Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from clips import requires_ffmpeg
from s3server import PLACEHOLDER, vod_serve
from test_e2e import RECORDED_KEY, RECORDED_TALK, browser, page, play, wait_for_time

from vod.catalog import load_catalog
from vod.config import BUNDLED_CATALOG
from vod.media.pipeline import MediaOptions, process_talks
from vod.media.store import LocalMediaStore
from vod.storage import LocalStorage

pytestmark = [pytest.mark.e2e, requires_ffmpeg]
__all__ = ["browser", "page"]  # the browser fixtures of test_e2e, found here too


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`vod serve` on a media folder whose one recording `vod media` processed (with 240p)."""
    tmp = tmp_path_factory.mktemp("e2e-media")
    media = tmp / "media"
    (media / RECORDED_KEY).parent.mkdir(parents=True)
    shutil.copyfile(PLACEHOLDER, media / RECORDED_KEY)
    catalog = load_catalog(BUNDLED_CATALOG)
    report = process_talks(
        LocalMediaStore(LocalStorage(media)),
        [catalog.talk(RECORDED_TALK)],
        MediaOptions(renditions=("240p",)),
    )
    assert report.count("made") == 1, report.lines()
    with vod_serve(tmp, media_dir=media) as base:
        yield base


def test_seek_preview_shows_the_thumbnail_under_the_pointer(page: Any, site: str) -> None:
    page.goto(f"{site}/talks/{RECORDED_TALK}")
    video = page.locator("video#player")
    poster = video.get_attribute("poster")
    assert poster == f"/media/{RECORDED_KEY.removesuffix('.mp4')}.poster.jpg"
    loaded = page.evaluate(
        "src => new Promise(ok => { const i = new Image(); i.onload = () => ok(i.naturalWidth);"
        " i.onerror = () => ok(0); i.src = src; })",
        poster,
    )
    assert loaded > 0  # the poster is a real image the page may load (CSP, path)
    bar = page.locator(".seek-preview input[type=range]")
    box = bar.bounding_box()
    assert box is not None
    interval = float(video.get_attribute("data-thumb-interval") or 0)
    maximum = float(bar.get_attribute("max") or 0)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    thumb = page.locator(".seek-thumb")
    assert thumb.is_visible()
    expected = int((maximum * 0.5) // interval)
    assert abs(int(thumb.get_attribute("data-cell") or -1) - expected) <= 1
    style = thumb.evaluate(
        "t => ({image: getComputedStyle(t).backgroundImage, width: t.offsetWidth})"
    )
    assert "thumbs.jpg" in style["image"] and style["width"] >= 160
    assert page.locator(".seek-time").inner_text().startswith("0:1")
    page.mouse.move(0, 0)
    assert not thumb.is_visible()


def test_seek_bar_seeks_and_quality_menu_switches(page: Any, site: str) -> None:
    page.goto(f"{site}/talks/{RECORDED_TALK}")
    play(page)
    assert wait_for_time(page, 1.0) >= 1.0
    page.locator(".seek-preview input[type=range]").evaluate(
        "r => { r.value = '20'; r.dispatchEvent(new Event('change')); }"
    )
    assert wait_for_time(page, 20.0) >= 20.0
    page.locator("select.quality").select_option(label="240p")
    page.wait_for_function(
        "() => document.getElementById('player').currentSrc.endsWith('.240p.mp4')"
    )
    assert wait_for_time(page, 20.0) >= 20.0  # the same moment, in the smaller file
    downloads = page.locator(".downloads tbody tr")
    assert downloads.count() == 3
