"""A talk its speakers asked not to be recorded: on the agenda, never announced as a video."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from conftest import SAMPLE_CATALOG
from starlette.testclient import TestClient

from vod.config import Settings
from vod.web.app import create_app

QUIET = "distributed-storage-without-tears"  # speaker jose-muller-test, event testconf-2024
OTHER = "testconf-2024-keynote"
BASE = "http://testserver"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("do-not-record")
    catalog = root / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    event = catalog / "testconf-2024.yaml"
    text = event.read_text()
    event.write_text(
        text.replace("    tags: [storage]\n", "    tags: [storage]\n    do_not_record: true\n")
    )
    # The other talk's recording is in the store: only a real recording is announced as a
    # video (issue #11), so that is what "the others keep theirs" compares with.
    (root / "media" / "testconf-2024").mkdir(parents=True)
    (root / "media" / "testconf-2024" / f"{OTHER}.mp4").write_bytes(b"\x00" * 64)
    settings = Settings(catalog=catalog, index_dir=root / "index", media_dir=root / "media")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_its_page_shows_the_slot_without_a_player(client: TestClient) -> None:
    response = client.get(f"/talks/{QUIET}")
    assert response.status_code == 200
    page = response.text
    assert "Distributed Storage Without Tears" in page
    assert "not recorded" in page and "<video" not in page
    assert "json+oembed" not in page and "application/ld+json" not in page
    assert "og:video" not in page and "twitter:player" not in page
    other = client.get(f"/talks/{OTHER}").text
    assert "json+oembed" in other and "og:video" in other  # the others keep theirs
    recording = client.get(f"/api/talks/{QUIET}").json()["recording"]
    assert recording["status"] == "not_recorded" and recording["src"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/feed.xml",
        "/events/testconf-2024/feed.xml",
        "/speakers/jose-muller-test/feed.xml",
        "/podcast.xml",
        "/events/testconf-2024/podcast.xml",
    ],
)
def test_no_feed_lists_it(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert f"/talks/{QUIET}" not in response.text
    atom = path.endswith("/feed.xml") and not path.startswith("/speakers/")
    assert "<entry>" in response.text or not atom


def test_the_sitemap_leaves_it_out(client: TestClient) -> None:
    body = client.get("/sitemap.xml").text
    assert f"/talks/{QUIET}<" not in body
    assert f"/talks/{OTHER}<" in body


def test_oembed_does_not_embed_it(client: TestClient) -> None:
    response = client.get("/oembed", params={"url": f"{BASE}/talks/{QUIET}"})
    assert response.status_code == 404
    assert client.get("/oembed", params={"url": f"{BASE}/talks/{OTHER}"}).status_code == 200


def test_search_does_not_offer_it_as_a_recording(client: TestClient) -> None:
    found = client.get("/api/search", params={"q": "erasure coding"}).json()
    assert [hit["slug"] for hit in found["results"]] == [QUIET]  # still on the agenda
    with_recording = client.get(
        "/api/search", params={"q": "erasure coding", "recording": "1"}
    ).json()
    assert with_recording["results"] == []
