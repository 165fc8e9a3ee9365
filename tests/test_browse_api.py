"""The JSON twins of the browse pages (issue #11): /api/talks, events and speakers, paged;
and what machine-readable answers say about placeholder recordings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import feedparser
from browse_catalog import MULTI, OLD, OLD_TALKS, VIDEO_IDS, multi_slug, old_slug
from starlette.testclient import TestClient
from test_browse_html import BASE, site

__all__ = ["site"]  # the module fixture, shared with the HTML tests

PAGED_KEYS = {"total", "page", "pages", "next", "prev"}
CARD_KEYS = {"thumbnail", "duration", "recording_status", "day"}


def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, (url, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_api_talks_is_the_twin_of_talks(site: TestClient) -> None:
    body = get_json(site, "/api/talks?sort=title&year=2015")
    # The keys /api/talks always had (total, results, next) stay, with the paging beside them.
    assert set(body) == PAGED_KEYS | {"results", "sort", "filters"}
    assert (body["total"], body["page"], body["pages"]) == (OLD_TALKS, 1, 2)
    assert body["sort"] == "title" and body["filters"] == {"year": ["2015"]}
    titles = [t["title"] for t in body["results"]]
    assert titles == sorted(titles)
    everything = get_json(site, "/api/talks")
    assert everything["next"] == f"{BASE}/api/talks?page=2" and everything["prev"] is None
    second = get_json(site, everything["next"])
    assert second["prev"] == f"{BASE}/api/talks" and second["next"] is None
    assert len(everything["results"]) + len(second["results"]) == OLD_TALKS + 18


def test_api_talks_cards_carry_thumbnail_length_and_recording(site: TestClient) -> None:
    body = get_json(site, f"/api/talks?event={OLD}&sort=shortest")
    first = body["results"][0]
    assert set(first) >= CARD_KEYS
    assert first["slug"] == old_slug(0)
    assert first["duration"] == 600
    assert first["recording_status"] == "video"
    assert first["day"] == "2015-03-01"
    assert first["thumbnail"] == {
        "url": f"https://i.ytimg.com/vi/{VIDEO_IDS[0]}/hqdefault.jpg",
        "srcset": f"https://i.ytimg.com/vi/{VIDEO_IDS[0]}/mqdefault.jpg 320w, "
        f"https://i.ytimg.com/vi/{VIDEO_IDS[0]}/hqdefault.jpg 480w",
        "width": 480,
        "height": 270,
        "kind": "poster",
        "alt": "Poster of Z00 talk about testing",
    }
    placeholder = get_json(site, f"/api/talks?event={MULTI}&recording=0")["results"][0]
    assert placeholder["recording_status"] == "placeholder"
    assert placeholder["thumbnail"]["url"] == f"{BASE}/cards/{placeholder['slug']}.png?w=480"


def test_api_talks_bad_parameters(site: TestClient) -> None:
    assert "error" in get_json(site, "/api/talks?sort=loudest", 400)
    assert "error" in get_json(site, "/api/talks?page=0", 400)
    # Past the last page: an empty page, as /api/talks always answered.
    body = get_json(site, "/api/talks?page=9")
    assert body["results"] == [] and body["next"] is None


def test_api_event_is_paged_and_grouped(site: TestClient) -> None:
    body = get_json(site, f"/api/events/{OLD}")
    assert set(body) >= PAGED_KEYS
    assert (body["total"], body["pages"], body["order"]) == (OLD_TALKS, 2, "title")
    assert body["next"] == f"{BASE}/api/events/{OLD}?page=2"
    multi = get_json(site, f"/api/events/{MULTI}")
    assert multi["order"] == "agenda"
    assert [(s["day"], s["name"]) for s in multi["sessions"]][:2] == [
        ("2019-05-03", "Room A"),
        ("2019-05-03", "Room B"),
    ]


def test_api_speaker_is_the_twin_of_the_speaker_page(site: TestClient) -> None:
    body = get_json(site, "/api/speakers/prolific?page=2")
    assert body["name"] == "Pat Prolific" and body["photo"] == "https://images.example.org/pat.jpg"
    assert body["talk_count"] == 60 and body["page"] == 2
    assert [r["role"] for r in body["roles"]] == ["both", "recorded"]
    assert get_json(site, "/api/speakers/nobody", 404) == {
        "error": "There is no speaker at this address."
    }


# ---- placeholders are never advertised as videos ----------------------------------------------


def test_sitemap_lists_videos_only_for_real_recordings(site: TestClient) -> None:
    response = site.get("/sitemap.xml")
    assert response.status_code == 200
    # Plain XML, shown by the browser's own viewer under a policy that lets it (issue #11).
    assert "xml-stylesheet" not in response.text
    assert "'unsafe-inline'" in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    root = ET.fromstring(response.content)
    ns = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "v": "http://www.google.com/schemas/sitemap-video/1.1",
    }
    videos = {
        u.findtext("s:loc", namespaces=ns): u.find("v:video", ns) is not None
        for u in root.findall("s:url", ns)
    }
    assert videos[f"{BASE}/talks/{multi_slug(0, 0, 0)}"] is True  # in the store
    assert videos[f"{BASE}/talks/{old_slug(0)}"] is True  # on YouTube
    assert videos[f"{BASE}/talks/{multi_slug(1, 0, 0)}"] is False  # the placeholder plays
    # HTML pages keep their strict policy.
    assert "'unsafe-inline'" not in site.get("/talks").headers["content-security-policy"]


def test_feeds_list_real_recordings_only(site: TestClient) -> None:
    feed = feedparser.parse(site.get(f"/events/{MULTI}/feed.xml").content)
    links = {e.link for e in feed.entries}
    assert links == {f"{BASE}/talks/{multi_slug(0, r, n)}" for r in range(2) for n in range(3)}
    for entry in feed.entries:  # a real recording in the media folder: enclosed
        assert [link.rel for link in entry.links].count("enclosure") == 1
    site_feed = feedparser.parse(site.get("/feed.xml").content)
    assert f"{BASE}/talks/{multi_slug(2, 0, 0)}" not in {e.link for e in site_feed.entries}


def test_oembed_of_a_placeholder_is_a_link(site: TestClient) -> None:
    url = f"{BASE}/talks/{multi_slug(1, 0, 0)}"
    body = get_json(site, f"/oembed?url={url}")
    assert body["type"] == "link"
    assert "html" not in body and "width" not in body
    assert body["thumbnail_url"] == f"{BASE}/cards/{multi_slug(1, 0, 0)}.png"
    real = get_json(site, f"/oembed?url={BASE}/talks/{multi_slug(0, 0, 0)}")
    assert real["type"] == "video" and "<iframe" in real["html"]
