"""The oEmbed provider (https://oembed.com): what it answers, in JSON and XML, and what not.

A real consumer library embeds talks through discovery in tests/test_links_consumers.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from httpx2 import Response
from starlette.testclient import TestClient
from test_links_feeds import KEYS, record

from vod.config import Settings
from vod.web.app import create_app

SAMPLE = Path(__file__).parent / "data" / "catalog"
BASE = "http://testserver"
KEYNOTE = "testconf-2024-keynote"  # former slugs keynote-2024, testing-in-production
DUCKS = "observability-for-rubber-ducks"
# The talks' recordings are in the fixtures' media folders: oEmbed answers `video` only for a
# real recording (issue #11; a placeholder's `link` is tested in tests/test_browse_api.py).


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("links-oembed")
    record(root / "media", KEYS.values())
    settings = Settings(catalog=SAMPLE, index_dir=root / "index", media_dir=root / "media")
    with TestClient(create_app(settings)) as client:
        yield client


def oembed(client: TestClient, url: str, **params: str) -> Response:
    return client.get("/oembed", params={"url": url, **params})


def test_json_answer(sample: TestClient) -> None:
    response = oembed(sample, f"{BASE}/talks/{DUCKS}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    data = response.json()
    assert list(data) == [
        "version",
        "type",
        "title",
        "author_name",
        "provider_name",
        "provider_url",
        "cache_age",
        "html",
        "width",
        "height",
        "thumbnail_url",
        "thumbnail_width",
        "thumbnail_height",
    ]
    assert data["version"] == "1.0" and data["type"] == "video"
    assert data["title"] == "Observability for Rubber Ducks"
    assert data["author_name"] == "Bob Placeholder and José Müller-Test"  # the recording's
    assert data["provider_name"] == "vod" and data["provider_url"] == f"{BASE}/"
    assert (data["width"], data["height"]) == (640, 360)
    assert data["html"] == (
        f'<iframe src="{BASE}/embed/{DUCKS}" width="640" height="360" '
        'title="Observability for Rubber Ducks · TestConf 2024" style="border:0" '
        'allow="autoplay; fullscreen; picture-in-picture"></iframe>'
    )
    assert data["thumbnail_url"] == f"{BASE}/cards/{DUCKS}.png"
    assert (data["thumbnail_width"], data["thumbnail_height"]) == (1200, 630)


def test_one_presenter_has_an_author_url(sample: TestClient) -> None:
    data = oembed(sample, f"{BASE}/talks/distributed-storage-without-tears").json()
    assert data["author_name"] == "José Müller-Test"
    assert data["author_url"] == f"{BASE}/speakers/jose-muller-test"


def test_talk_without_presenters_names_no_author(sample: TestClient) -> None:
    data = oembed(sample, f"{BASE}/talks/testconf-2024-open-discussion").json()
    assert "author_name" not in data and "author_url" not in data


@pytest.mark.parametrize(
    ("url", "src"),
    [
        (f"{BASE}/talks/{KEYNOTE}?t=90", f"/embed/{KEYNOTE}?t=90"),
        (f"{BASE}/talks/{KEYNOTE}?t=1m30s&end=2:00", f"/embed/{KEYNOTE}?t=90&amp;end=120"),
        (f"{BASE}/talks/keynote-2024?t=90", f"/embed/{KEYNOTE}?t=90"),  # a former slug
        (f"{BASE}/talks/testing-in-production/", f"/embed/{KEYNOTE}"),
        (f"{BASE}/embed/{KEYNOTE}?t=5", f"/embed/{KEYNOTE}?t=5"),
        (f"{BASE}/talks/{KEYNOTE}?t=-5", f"/embed/{KEYNOTE}"),  # bad values are ignored
        (f"{BASE}/talks/{KEYNOTE}?t=abc&end=x", f"/embed/{KEYNOTE}"),
        (f"{BASE}/talks/{KEYNOTE}#t=90", f"/embed/{KEYNOTE}"),
    ],
)
def test_url_with_a_moment_embeds_at_the_moment(sample: TestClient, url: str, src: str) -> None:
    html = oembed(sample, url).json()["html"]
    assert html.startswith(f'<iframe src="{BASE}{src}" ')


@pytest.mark.parametrize(
    ("params", "size", "thumb"),
    [
        ({"maxwidth": "320"}, (320, 180), (320, 168)),
        ({"maxheight": "180"}, (320, 180), (320, 168)),
        ({"maxwidth": "1000", "maxheight": "300"}, (533, 300), (480, 252)),
        ({"maxwidth": "2000"}, (640, 360), (1200, 630)),
        ({"maxwidth": "100"}, (100, 56), None),
        ({"maxwidth": "1"}, (1, 1), None),
        ({"maxwidth": "0"}, (640, 360), (1200, 630)),  # not a size: no limit
        ({"maxwidth": "-5", "maxheight": "abc"}, (640, 360), (1200, 630)),
        ({"maxwidth": "9" * 40}, (640, 360), (1200, 630)),
    ],
)
def test_sizes_fit_maxwidth_and_maxheight(
    sample: TestClient,
    params: dict[str, str],
    size: tuple[int, int],
    thumb: tuple[int, int] | None,
) -> None:
    data = oembed(sample, f"{BASE}/talks/{DUCKS}", **params).json()
    assert (data["width"], data["height"]) == size
    assert f'width="{size[0]}" height="{size[1]}"' in data["html"]
    if thumb is None:
        assert "thumbnail_url" not in data and "thumbnail_width" not in data
        return
    assert (data["thumbnail_width"], data["thumbnail_height"]) == thumb
    card = sample.get(data["thumbnail_url"].removeprefix(BASE))
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(card.content)).size == thumb


def test_xml_answer(sample: TestClient) -> None:
    json_data = oembed(sample, f"{BASE}/talks/{KEYNOTE}?t=90").json()
    response = oembed(sample, f"{BASE}/talks/{KEYNOTE}?t=90", format="xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8" standalone="yes"?>')
    root = ET.fromstring(response.content)
    assert root.tag == "oembed"
    assert {child.tag: child.text for child in root} == {k: str(v) for k, v in json_data.items()}


@pytest.mark.parametrize("fmt", ["yaml", "XML", "jsonp", "html", " "])
def test_unsupported_format_is_501(sample: TestClient, fmt: str) -> None:
    assert oembed(sample, f"{BASE}/talks/{KEYNOTE}", format=fmt).status_code == 501


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/talks/no-such-talk",
        f"{BASE}/speakers/ada-example",
        f"{BASE}/events/testconf-2024",
        f"{BASE}/",
        f"{BASE}/talks/{KEYNOTE}/chapters.vtt",
        f"{BASE}/talks/{KEYNOTE}/extra",
        f"https://elsewhere.example/talks/{KEYNOTE}",
        f"{BASE}.evil.example/talks/{KEYNOTE}",
        f"ftp://testserver/talks/{KEYNOTE}",
        f"/talks/{KEYNOTE}",
        "not a url",
        "http://[::1",
        "\x00",
        f"{BASE}/talks/%ED%A0%80",
        f"{BASE}/talks/{'a' * 3000}",
    ],
)
def test_a_url_that_is_not_one_of_our_talks_is_404(sample: TestClient, url: str) -> None:
    assert oembed(sample, url).status_code == 404
    assert oembed(sample, url, format="xml").status_code == 404


def test_missing_url_is_a_400(sample: TestClient) -> None:
    assert sample.get("/oembed").status_code == 400
    assert sample.get("/oembed?url=").status_code == 400


def test_base_url_setting_decides_which_urls_are_ours(tmp_path: Path) -> None:
    record(tmp_path / "media", KEYS.values())
    settings = Settings(
        catalog=SAMPLE,
        index_dir=tmp_path / "index",
        media_dir=tmp_path / "media",
        base_url="https://talks.example.org/vod",
    )
    # A proxy serves the site under /vod and forwards the public host (issue #10, item 7).
    with TestClient(create_app(settings), base_url="https://talks.example.org") as client:
        ours = oembed(client, f"https://talks.example.org/vod/talks/{DUCKS}?t=3")
        assert ours.status_code == 200
        assert ours.json()["html"].startswith(
            f'<iframe src="https://talks.example.org/vod/embed/{DUCKS}?t=3"'
        )
        assert ours.json()["provider_url"] == "https://talks.example.org/vod/"
        page = client.get(f"/talks/{DUCKS}").text
        assert (
            "https://talks.example.org/vod/oembed?url="
            + quote(f"https://talks.example.org/vod/talks/{DUCKS}", safe="")
            in page
        )
