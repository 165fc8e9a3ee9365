"""Title cards: a PNG of 1200x630 for every talk without a poster, cached with an ETag."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

from vod.catalog import load_catalog
from vod.config import Settings
from vod.links import cards
from vod.web.app import create_app

SAMPLE = Path(__file__).parent / "data" / "catalog"
DUCKS = "observability-for-rubber-ducks"
UNTITLED = "testconf-2023-lightning-talks"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("links-cards")
    settings = Settings(catalog=SAMPLE, index_dir=root / "index", media_dir=root / "media")
    with TestClient(create_app(settings)) as client:
        yield client


def png(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    return image


def test_card_is_a_1200x630_png_with_an_etag(sample: TestClient) -> None:
    response = sample.get(f"/cards/{DUCKS}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert png(response.content).size == (1200, 630)
    etag = response.headers["etag"]
    again = sample.get(f"/cards/{DUCKS}.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    assert etag.startswith('W/"')  # gzip may change the bytes, never the picture
    strong = etag.removeprefix("W/")
    listed = sample.get(f"/cards/{DUCKS}.png", headers={"If-None-Match": f'"x", {strong}'})
    assert listed.status_code == 304
    other = sample.get(f"/cards/{DUCKS}.png", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200


@pytest.mark.parametrize(("w", "size"), [("640", (640, 336)), ("160", (160, 84))])
def test_smaller_cards_for_oembed_thumbnails(
    sample: TestClient, w: str, size: tuple[int, int]
) -> None:
    response = sample.get(f"/cards/{DUCKS}.png?w={w}")
    assert png(response.content).size == size
    assert response.headers["etag"] != sample.get(f"/cards/{DUCKS}.png").headers["etag"]


@pytest.mark.parametrize("w", ["7", "99999", "abc", "-640", "", "640.0", "²"])
def test_odd_widths_get_the_full_card(sample: TestClient, w: str) -> None:
    assert png(sample.get(f"/cards/{DUCKS}.png", params={"w": w}).content).size == (1200, 630)


def test_unknown_talk_has_no_card(sample: TestClient) -> None:
    assert sample.get("/cards/no-such-talk.png").status_code == 404


def test_card_text_is_the_recording_presenters_and_the_event() -> None:
    catalog = load_catalog(SAMPLE)
    text = cards.card_text(catalog, catalog.talks[DUCKS])
    assert text == cards.CardText(
        title="Observability for Rubber Ducks",
        presenters="Bob Placeholder and José Müller-Test",  # not the live Chloé Sample
        event="TestConf 2024",
        date="May 14, 2024",
    )


def test_untitled_card_invents_no_title() -> None:
    catalog = load_catalog(SAMPLE)
    text = cards.card_text(catalog, catalog.talks[UNTITLED])
    assert text.title is None and text.event == "TestConf 2023"
    untitled = png(cards.render_card(text))
    # The card says "Title not published" in the muted colour, where a title would be.
    titled = png(cards.render_card(cards.CardText("Title", "", "TestConf 2023", text.date)))
    assert untitled.size == titled.size == (1200, 630)
    assert untitled.tobytes() != titled.tobytes()
    muted = cards._MUTED
    title_band = untitled.crop((88, 150, 800, 230)).getcolors(maxcolors=100_000) or []
    assert any(colour == muted for _, colour in title_band)


def test_etag_changes_with_the_text_only() -> None:
    a = cards.CardText("A", "B", "C", "D")
    assert a.etag == cards.CardText("A", "B", "C", "D").etag
    assert a.etag != cards.CardText("A", "B", "C", "E").etag
    assert a.etag.startswith('"') and a.etag.endswith('"')


def test_renders_without_system_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with only pip has no DejaVu: Pillow's own font draws the card."""
    monkeypatch.setattr(cards, "FONT_DIRS", (tmp_path,))
    cards._font.cache_clear()
    try:
        image = png(cards.render_card(cards.CardText("Résumé of “quotes”", "Zoë", "E", "D")))
    finally:
        cards._font.cache_clear()
    assert image.size == (1200, 630)


def test_long_text_is_wrapped_and_shortened() -> None:
    text = cards.CardText("Word " * 80 + "x" * 300, "Name " * 100, "Event " * 40, "D")
    assert png(cards.render_card(text)).size == (1200, 630)


def test_cache_keeps_the_newest_cards() -> None:
    cache = cards.CardCache(size=2)
    first = cards.CardText("1", "", "E", "D")
    png_first = cache.get(first)
    assert cache.get(first) is png_first  # served from memory
    cache.get(cards.CardText("2", "", "E", "D"))
    cache.get(cards.CardText("3", "", "E", "D"))
    assert cache.get(first) is not png_first  # evicted, drawn again
