"""End to end in Chromium: suggestions as you type (keyboard), and a transcript hit's jump.

A real `vod serve` of the sample catalog; its fictional 2023 keynote gets the bundled sample clip
as its recording and the test captions (tests/data/store), so a cue's time can be played.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, SAMPLE_CATALOG
from s3server import PLACEHOLDER, vod_serve
from test_e2e import browser, page, play, wait_for_time

pytestmark = pytest.mark.e2e

__all__ = ["browser", "page"]  # the shared browser fixtures, imported to be found here

DEPLOY = "continuous-deployment-for-imaginary-services"
DUCKS = "observability-for-rubber-ducks"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("e2e-search")
    media = tmp / "media"
    shutil.copytree(DATA / "store", media)
    shutil.copyfile(PLACEHOLDER, media / "testconf-2023" / "continuous-deployment.mp4")
    with vod_serve(tmp, media_dir=media, env={"VOD_CATALOG": str(SAMPLE_CATALOG)}) as base:
        yield base


def test_suggestions_with_the_keyboard(page: Any, site: str) -> None:
    page.goto(f"{site}/search")
    box = page.locator("#search-q")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("rub", delay=30)
    listbox = page.locator("#search-q-suggestions")
    listbox.wait_for(state="visible")
    assert box.get_attribute("aria-expanded") == "true"
    assert listbox.get_attribute("role") == "listbox"
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.press("ArrowDown")  # opens the list again
    listbox.wait_for(state="visible")
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active == "search-q-suggestions-0"
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert "Observability for Rubber Ducks" in page.locator(f"#{active}").inner_text()
    box.press("Enter")
    page.wait_for_url(f"{site}/talks/{DUCKS}")


def test_the_header_box_suggests_on_every_page(page: Any, site: str, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1100, "height": 700})
    page.goto(f"{site}/talks/{DEPLOY}")
    box = page.locator("#site-q")
    assert box.get_attribute("role") == "combobox"
    box.press_sequentially("rub", delay=30)
    listbox = page.locator("#site-q-suggestions")
    listbox.wait_for(state="visible")
    # The list drops below the header box, on top of the page, no narrower than the box.
    box_area, list_area = box.bounding_box(), listbox.bounding_box()
    assert list_area["y"] >= box_area["y"] + box_area["height"] - 1
    assert list_area["width"] >= box_area["width"]
    page.screenshot(path=str(tmp_path / "header-suggestions.png"))
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "site-q-suggestions-0"
    box.press("Enter")
    page.wait_for_url(f"{site}/talks/{DUCKS}")


def test_enter_without_a_choice_searches(page: Any, site: str) -> None:
    page.goto(f"{site}/search")
    page.locator("#search-q").press_sequentially("flamingo", delay=20)
    page.locator("#search-q").press("Enter")
    page.wait_for_url(f"{site}/search?q=flamingo")
    assert page.locator("#results-h").inner_text() == "1 talk found"


def test_transcript_hit_jumps_to_the_moment_and_cues_seek(
    page: Any, site: str, tmp_path: Path
) -> None:
    page.goto(f"{site}/search?q=flamingo")
    page.locator(".results .snippet a").click()
    page.wait_for_url(f"{site}/talks/{DEPLOY}?t=9")
    assert page.locator(".player").get_attribute("data-start") == "9"
    play(page)
    assert wait_for_time(page, 9.0) >= 9.0
    # A cue's time seeks in place (player.js), without leaving the page.
    page.locator('.transcript a[data-seek="17"]').click()
    assert wait_for_time(page, 17.0) >= 17.0
    assert page.url == f"{site}/talks/{DEPLOY}?t=9"
    tracks = page.locator("video#player track[kind=captions]")
    assert tracks.first.get_attribute("src", timeout=1000).endswith(
        "testconf-2023/continuous-deployment.en.vtt"
    )
    page.screenshot(path=str(tmp_path / "transcript.png"), full_page=True)
    assert (tmp_path / "transcript.png").stat().st_size > 0
