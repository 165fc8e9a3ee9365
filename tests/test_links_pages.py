"""Talk pages as bloggers and link previews read them (issue #4): moments and clips, share /
cite / embed, oEmbed discovery, Open Graph and Twitter tags, JSON-LD, chapters.

Pages are parsed with html.parser, as a crawler would; the consumers that fetch over HTTP
(oEmbed discovery, feed readers, Chromium) are in tests/test_links_consumers.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_pages_html import Node, get_page, parse
from test_security import EVIL_YAML

from vod.config import Settings
from vod.web.app import create_app

SAMPLE = Path(__file__).parent / "data" / "catalog"
BASE = "http://testserver"
KEYNOTE = "continuous-deployment-for-imaginary-services"  # 2700 s, 3 chapters, a poster key
EXTERNAL = "streaming-from-elsewhere"  # an external HLS recording
UNTITLED = "testconf-2023-lightning-talks"
DUCKS = "observability-for-rubber-ducks"  # live and recording presenters differ


# Talks whose recordings are in the fixtures' media folders: previews advertise a video only for
# a real recording, never for the placeholder clip (issue #11).
RECORDED = {
    KEYNOTE: "testconf-2023/continuous-deployment.mp4",
    DUCKS: f"testconf-2024/{DUCKS}.mp4",
    "evil-talk": "evil-event/evil-talk.mp4",
}
PLACEHOLDER_TALK = "escaping-untrusted-text"  # no recording in the store: the placeholder plays


def media_with_recordings(root: Path) -> Path:
    media = root / "media"
    for key in RECORDED.values():
        (media / key).parent.mkdir(parents=True, exist_ok=True)
        (media / key).write_bytes(b"\x00" * 64)
    return media


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("links-pages")
    media = media_with_recordings(root)
    settings = Settings(catalog=SAMPLE, index_dir=root / "index", media_dir=media)
    with TestClient(create_app(settings)) as client:
        yield client


def meta(doc: Node) -> dict[str, str]:
    """Every <meta property=…> and <meta name=…> of the head, as a crawler reads them."""
    out: dict[str, str] = {}
    for tag in doc.find("head").find_all("meta"):
        key = tag.attrs.get("property") or tag.attrs.get("name")
        if key:
            out[str(key)] = str(tag.attrs["content"])
    return out


def json_ld(html: str) -> dict[str, Any]:
    [body] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "<" not in body and ">" not in body and "&" not in body
    data: dict[str, Any] = json.loads(body)
    return data


# ---- permalinks -----------------------------------------------------------------------------


def test_canonical_is_the_bare_permalink_even_with_a_moment(sample: TestClient) -> None:
    doc = get_page(sample, f"/talks/{KEYNOTE}?t=90&end=120")
    assert doc.find("link", rel="canonical").attrs["href"] == f"{BASE}/talks/{KEYNOTE}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/talks/keynote-2024?t=90&end=120", "/talks/testconf-2024-keynote?t=90&end=120"),
        ("/cards/keynote-2024.png", "/cards/testconf-2024-keynote.png"),
        ("/embed/testing-in-production?t=5", "/embed/testconf-2024-keynote?t=5"),
    ],
)
def test_former_slugs_move_permanently_with_their_moment(
    sample: TestClient, old: str, new: str
) -> None:
    response = sample.get(old, follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"] == new


def test_unknown_slug_offers_a_search_for_its_words(sample: TestClient) -> None:
    doc = get_page(sample, "/talks/distributed-storage-with-tears", 404)
    assert doc.find("input", id="error-q").attrs["value"] == "distributed storage with tears"
    results = get_page(sample, "/search?q=distributed+storage+with+tears")
    hrefs = [a.attrs["href"] for a in results.find("ol", cls="results").find_all("a")]
    assert "/talks/distributed-storage-without-tears" in hrefs


# ---- link previews --------------------------------------------------------------------------


def test_open_graph_and_twitter_tags(sample: TestClient) -> None:
    tags = meta(get_page(sample, f"/talks/{KEYNOTE}?t=90"))
    card = f"{BASE}/cards/{KEYNOTE}.png"
    assert tags["og:type"] == "video.other"
    assert tags["og:title"] == "Continuous Deployment for Imaginary Services · TestConf 2023"
    assert tags["og:description"].startswith("How the imaginary services team ships")
    assert tags["og:url"] == f"{BASE}/talks/{KEYNOTE}"
    assert tags["og:image"] == card  # its poster key is not in the store: the title card
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:video"] == f"{BASE}/embed/{KEYNOTE}?t=90"
    assert tags["og:video:type"] == "text/html"
    assert tags["video:duration"] == "2700"
    assert tags["twitter:card"] == "player"
    assert tags["twitter:player"] == f"{BASE}/embed/{KEYNOTE}?t=90"
    assert tags["twitter:image"] == card
    assert int(tags["twitter:player:width"]) * 9 == int(tags["twitter:player:height"]) * 16


def test_a_placeholder_is_never_advertised_as_a_video(sample: TestClient) -> None:
    """Issue #11: no og:video, no twitter:player, no VideoObject for the placeholder clip."""
    html = sample.get(f"/talks/{PLACEHOLDER_TALK}").text
    tags = meta(parse(html))
    assert tags["og:type"] == "website"
    assert not [name for name in tags if name.startswith(("og:video", "video:", "twitter:player"))]
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:image"] == f"{BASE}/cards/{PLACEHOLDER_TALK}.png"
    data = json_ld(html)
    assert data["@type"] == "CreativeWork"
    assert not {"embedUrl", "contentUrl", "duration", "potentialAction"} & set(data)
    assert data["url"] == f"{BASE}/talks/{PLACEHOLDER_TALK}"


def test_oembed_and_feed_discovery_links(sample: TestClient) -> None:
    doc = get_page(sample, f"/talks/{KEYNOTE}?t=1m30s")
    links = {
        str(a.attrs["type"]): str(a.attrs["href"])
        for a in doc.find("head").find_all("link", rel="alternate")
    }
    moment = f"{BASE}/talks/{KEYNOTE}?t=90".replace(":", "%3A").replace("/", "%2F")
    moment = moment.replace("?", "%3F").replace("=", "%3D")
    assert links["application/json+oembed"] == f"{BASE}/oembed?url={moment}&format=json"
    assert links["text/xml+oembed"] == f"{BASE}/oembed?url={moment}&format=xml"
    assert links["application/atom+xml"] == f"{BASE}/events/testconf-2023/feed.xml"


def test_poster_on_local_storage_is_the_preview_image(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "testconf-2023").mkdir(parents=True)
    (media / "testconf-2023" / "continuous-deployment.jpg").write_bytes(b"\xff\xd8 not really")
    settings = Settings(catalog=SAMPLE, index_dir=tmp_path / "index", media_dir=media)
    with TestClient(create_app(settings)) as client:
        tags = meta(get_page(client, f"/talks/{KEYNOTE}"))
    assert tags["og:image"] == f"{BASE}/media/testconf-2023/continuous-deployment.jpg"
    assert "og:image:width" not in tags  # a poster's size is not known


def test_json_ld_video_object(sample: TestClient) -> None:
    data = json_ld(sample.get(f"/talks/{KEYNOTE}").text)
    page = f"{BASE}/talks/{KEYNOTE}"
    assert data["@context"] == "https://schema.org" and data["@type"] == "VideoObject"
    assert data["name"] == "Continuous Deployment for Imaginary Services"
    assert data["description"].startswith("How the imaginary services team ships")
    assert data["thumbnailUrl"] == [f"{BASE}/cards/{KEYNOTE}.png"]
    assert data["uploadDate"] == "2023-09-21T09:00:00+02:00"
    assert data["duration"] == "PT45M"
    assert data["embedUrl"] == f"{BASE}/embed/{KEYNOTE}"
    # The recording is in the media folder, which vod serves: a public, stable URL.
    assert data["contentUrl"] == f"{BASE}/media/testconf-2023/continuous-deployment.mp4"
    assert data["actor"] == [{"@type": "Person", "name": "Ada Example"}]
    assert data["hasPart"] == [
        {"@type": "Clip", "name": "Welcome", "startOffset": 0, "url": page, "endOffset": 330},
        {
            "@type": "Clip",
            "name": "Canary checks",
            "startOffset": 330,
            "url": f"{page}?t=330",
            "endOffset": 1200,
        },
        {
            "@type": "Clip",
            "name": "Rollbacks",
            "startOffset": 1200,
            "url": f"{page}?t=1200",
            "endOffset": 2700,
        },
    ]
    assert data["potentialAction"] == {
        "@type": "SeekToAction",
        "target": f"{page}?t={{seek_to_second_number}}",
        "startOffset-input": "required name=seek_to_second_number",
    }


def test_json_ld_of_an_external_recording_names_its_public_file(sample: TestClient) -> None:
    data = json_ld(sample.get(f"/talks/{EXTERNAL}").text)
    assert data["contentUrl"] == (
        "https://videos.example.org/testconf-2024/streaming-from-elsewhere.m3u8"
    )
    assert data["duration"] == "PT43M"
    assert "hasPart" not in data


def test_json_ld_names_the_recording_presenters(sample: TestClient) -> None:
    data = json_ld(sample.get(f"/talks/{DUCKS}").text)
    assert [a["name"] for a in data["actor"]] == ["Bob Placeholder", "José Müller-Test"]
    assert "duration" not in data  # no recording duration is published: none is invented


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("links-evil")
    (root / "evil.yaml").write_text(EVIL_YAML, encoding="utf-8")
    media = media_with_recordings(root)
    settings = Settings(catalog=root / "evil.yaml", index_dir=root / "i", media_dir=media)
    with TestClient(create_app(settings)) as client:
        yield client


def test_json_ld_cannot_close_its_script_element(evil: TestClient) -> None:
    html = evil.get("/talks/evil-talk").text
    data = json_ld(html)  # no raw <, > or & inside the element
    assert data["name"] == 'Evil talk <script>alert(1)</script> "onmouseover=alert(1) x="'
    assert data["hasPart"][0]["name"] == "Chapter <script>alert(1)</script>"
    # JSON-LD, suggest.js (header box), player.js, links.js: nothing from the catalog's text
    assert html.count("<script") == html.count("</script>") == 4


def test_preview_tags_keep_catalog_text_as_text(evil: TestClient) -> None:
    doc = parse(evil.get("/talks/evil-talk").text)
    tags = meta(doc)
    assert tags["og:title"].startswith('Evil talk <script>alert(1)</script> "onmouseover')
    cite = doc.find("textarea", id="share-cite").text()
    assert "“Evil talk <script>alert(1)</script>" in cite


# ---- moments, clips, share, cite, embed --------------------------------------------------------


def test_share_cite_and_embed_are_plain_text_without_javascript(sample: TestClient) -> None:
    doc = get_page(sample, f"/talks/{KEYNOTE}?t=1:30&end=2m")
    section = doc.find("section", cls="share")
    link = section.find("input", id="share-link")
    assert link.attrs["value"] == f"{BASE}/talks/{KEYNOTE}?t=90&end=120"
    assert link.attrs["readonly"] is None and "readonly" in link.attrs
    assert section.find("textarea", id="share-cite").text() == (
        "Ada Example. “Continuous Deployment for Imaginary Services.” TestConf 2023, "
        f"September 21, 2023. Video, 1:30–2:00. {BASE}/talks/{KEYNOTE}?t=90&end=120"
    )
    snippet = section.find("textarea", id="share-embed").text()
    # Responsive (issue #11): a 16:9 wrapper, and no `allowfullscreen` beside `allow`.
    assert snippet == (
        '<div style="position:relative;max-width:640px;aspect-ratio:16/9">'
        f'<iframe src="{BASE}/embed/{KEYNOTE}?t=90&amp;end=120" '
        'title="Continuous Deployment for Imaginary Services · TestConf 2023" '
        'style="position:absolute;inset:0;width:100%;height:100%;border:0" '
        'allow="autoplay; fullscreen; picture-in-picture"></iframe></div>'
    )
    assert section.find("span", id="share-when").text() == "These links play the clip 1:30–2:00."
    # Every field has its label; the buttons that need the script stay hidden without it.
    for field in ("share-link", "share-cite", "share-embed"):
        assert section.find("label", for_=field)
    buttons = section.find_all("button")
    assert len(buttons) == 4 and all("hidden" in b.attrs for b in buttons)
    assert section.attrs["data-canonical"] == f"{BASE}/talks/{KEYNOTE}"
    assert section.attrs["data-embed"] == f"{BASE}/embed/{KEYNOTE}"


def test_citation_names_who_is_in_the_recording(sample: TestClient) -> None:
    cite = get_page(sample, f"/talks/{DUCKS}?t=754").find("textarea", id="share-cite").text()
    assert cite == (
        "Bob Placeholder and José Müller-Test. “Observability for Rubber Ducks.” "
        f"TestConf 2024, May 14, 2024. Video, at 12:34. {BASE}/talks/{DUCKS}?t=754"
    )


def test_untitled_talk_is_cited_without_inventing_a_title(sample: TestClient) -> None:
    doc = get_page(sample, f"/talks/{UNTITLED}")
    assert doc.find("textarea", id="share-cite").text() == (
        "Name not published. [Title not published]. TestConf 2023, September 21, 2023. "
        f"Video. {BASE}/talks/{UNTITLED}"
    )
    assert meta(doc)["og:title"] == "Title not published · TestConf 2023"
    assert json_ld(sample.get(f"/talks/{UNTITLED}").text)["name"] == "Title not published"


@pytest.mark.parametrize(
    ("query", "start", "end", "fragment"),
    [
        ("t=90&end=120", "90", "120", "#t=90,120"),
        ("t=1m30s&end=2:00", "90", "120", "#t=90,120"),
        ("end=30", None, "30", "#t=0,30"),
        ("t=90&end=60", "90", None, "#t=90"),  # ends before it starts: no clip
        ("t=90&end=90", "90", None, "#t=90"),
        ("t=90&end=9999", "90", None, "#t=90"),  # past the end of the recording
        ("t=99999&end=30", None, "30", "#t=0,30"),  # t past the end is dropped
        ("t=-5", None, None, ""),
        ("t=abc&end=abc", None, None, ""),
        ("t=2700", None, None, ""),  # exactly the end
        ("t=1:02:03", None, None, ""),  # 3723 s, past the 2700 s recording
    ],
)
def test_moments_and_clips(
    sample: TestClient, query: str, start: str | None, end: str | None, fragment: str
) -> None:
    doc = get_page(sample, f"/talks/{KEYNOTE}?{query}")
    player = doc.find("div", cls="player")
    assert player.attrs.get("data-start") == start
    assert player.attrs.get("data-end") == end
    recording = "/media/testconf-2023/continuous-deployment.mp4"  # in the fixture's media folder
    assert player.find("source").attrs["src"] == recording + fragment
    link = doc.find("input", id="share-link").attrs["value"]
    expected = "&".join(
        p for p in (f"t={start}" if start else "", f"end={end}" if end else "") if p
    )
    assert link == f"{BASE}/talks/{KEYNOTE}" + (f"?{expected}" if expected else "")


@pytest.mark.parametrize("query", ["t=90&end=120", "t=-5&end=x", "end=10&autoplay=1"])
def test_embed_plays_the_same_clip(sample: TestClient, query: str) -> None:
    talk = get_page(sample, f"/talks/{KEYNOTE}?{query}").find("div", cls="player")
    embed = get_page(sample, f"/embed/{KEYNOTE}?{query}").find("div", cls="player")
    assert embed.attrs == talk.attrs
    assert embed.find("source").attrs == talk.find("source").attrs


# ---- chapters -------------------------------------------------------------------------------


def test_chapters_track_is_generated(sample: TestClient) -> None:
    response = sample.get(f"/talks/{KEYNOTE}/chapters.vtt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/vtt; charset=utf-8"
    assert response.text == (
        "WEBVTT\n\n"
        "chapter-1\n00:00:00.000 --> 00:05:30.000\nWelcome\n\n"
        "chapter-2\n00:05:30.000 --> 00:20:00.000\nCanary checks\n\n"
        "chapter-3\n00:20:00.000 --> 00:45:00.000\nRollbacks\n"
    )
    again = sample.get(
        f"/talks/{KEYNOTE}/chapters.vtt", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


def test_chapters_show_in_the_player_and_as_links(sample: TestClient) -> None:
    doc = get_page(sample, f"/talks/{KEYNOTE}")
    tracks = {t.attrs["kind"]: t.attrs for t in doc.find("video").find_all("track")}
    assert tracks["chapters"]["src"] == f"/talks/{KEYNOTE}/chapters.vtt"
    chapters = doc.find("ol", cls="chapters").find_all("a")
    assert [(a.attrs["data-seek"], a.text()) for a in chapters] == [
        ("0", "0:00"),
        ("330", "5:30"),
        ("1200", "20:00"),
    ]


def test_chapter_cue_text_is_escaped(evil: TestClient) -> None:
    vtt = evil.get("/talks/evil-talk/chapters.vtt").text
    assert "Chapter &lt;script&gt;alert(1)&lt;/script&gt;" in vtt and "<script>" not in vtt


@pytest.mark.parametrize(
    ("url", "status"),
    [(f"/talks/{DUCKS}/chapters.vtt", 404), ("/talks/no-such-talk/chapters.vtt", 404)],
)
def test_no_chapters_no_track(sample: TestClient, url: str, status: int) -> None:
    assert sample.get(url).status_code == status
    doc = get_page(sample, f"/talks/{DUCKS}")
    assert not [t for t in doc.find("video").find_all("track") if t.attrs["kind"] == "chapters"]
