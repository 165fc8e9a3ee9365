"""/api/search (results, facets, filters, sort, the moment) and /api/suggest (issue #3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import DATA, SAMPLE_CATALOG
from starlette.testclient import TestClient
from test_api import HIT_KEYS, SEARCH_KEYS, get_json

from vod.config import Settings
from vod.web.app import create_app

DEPLOY = "continuous-deployment-for-imaginary-services"
FACET_KEYS = {"name", "label", "values"}
VALUE_KEYS = {"key", "label", "count", "selected"}
SUGGESTION_KEYS = {"kind", "label", "slug", "url", "events"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("search-api")
    settings = Settings(catalog=SAMPLE_CATALOG, index_dir=root / "index", media_dir=DATA / "store")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_search_shape_with_facets(client: TestClient) -> None:
    body = get_json(client, "/api/search", q="testconf")
    assert set(body) == SEARCH_KEYS
    assert (body["total"], body["sort"], body["filters"], body["partial"]) == (
        8,
        "relevance",
        {},
        False,
    )
    assert [f["name"] for f in body["facets"]] == [
        "event",
        "speaker",
        "company",
        "year",
        "recording",
    ]
    for facet in body["facets"]:
        assert set(facet) == FACET_KEYS
        for value in facet["values"]:
            assert set(value) == VALUE_KEYS
            assert isinstance(value["count"], int) and value["selected"] is False
    [event] = [f for f in body["facets"] if f["name"] == "event"]
    assert event["values"] == [
        {"key": "testconf-2024", "label": "TestConf 2024", "count": 5, "selected": False},
        {"key": "testconf-2023", "label": "TestConf 2023", "count": 3, "selected": False},
    ]
    assert all(set(hit) == HIT_KEYS for hit in body["results"])


def test_search_filters_sort_and_the_next_page_keep_every_value(client: TestClient) -> None:
    params: Any = [
        ("q", "testconf"),
        ("event", "testconf-2023"),
        ("event", "testconf-2024"),
        ("sort", "oldest"),
    ]
    first = client.get("/api/search", params=params).json()
    assert first["filters"] == {"event": ["testconf-2023", "testconf-2024"]}
    assert first["sort"] == "oldest"
    assert first["results"][0]["slug"] == "testconf-2023-lightning-talks"
    assert first["next"] is None  # ten to a page: one page
    body = get_json(client, "/api/search", speaker="chloe-sample")
    assert body["query"] == "" and body["total"] == 3 and body["sort"] == "newest"


def test_next_page_url_keeps_repeated_filters(client: TestClient, bundled: TestClient) -> None:
    body = get_json(bundled, "/api/search", q="systems", year="2024")
    assert body["total"] > 10
    assert parse_qs(urlsplit(body["next"]).query) == {
        "q": ["systems"],
        "year": ["2024"],
        "page": ["2"],
    }


@pytest.fixture(scope="module")
def bundled(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_search_moment(client: TestClient) -> None:
    [hit] = get_json(client, "/api/search", q="flamingo questions")["results"]
    assert hit["matched_in"] == "transcript"
    assert hit["moment"] == {
        "start": 2650,
        "url": f"http://testserver/talks/{DEPLOY}?t=2650",
        "snippet": "Thank you! The <mark>flamingo</mark> will now take <mark>questions</mark>.",
    }
    [plain] = get_json(client, "/api/search", q="erasure")["results"]
    assert plain["moment"] is None


@pytest.mark.parametrize(
    "params",
    [{"q": "x", "sort": "best"}, {"q": "x", "year": "2k24"}, {"q": "x", "recording": "maybe"}],
)
def test_search_bad_options_are_400(client: TestClient, params: dict[str, str]) -> None:
    body = get_json(client, "/api/search", 400, **params)
    assert set(body) == {"error", "query"}


def test_suggest(client: TestClient) -> None:
    body = get_json(client, "/api/suggest", q="Rubber d")
    assert body == {
        "query": "Rubber d",
        "suggestions": [
            {
                "kind": "talk",
                "label": "Observability for Rubber Ducks",
                "slug": "observability-for-rubber-ducks",
                "url": "http://testserver/talks/observability-for-rubber-ducks",
                "events": ["TestConf 2024"],
            }
        ],
    }
    people = get_json(client, "/api/suggest", q="jos")["suggestions"]
    assert [(s["kind"], s["url"]) for s in people] == [
        ("speaker", "http://testserver/speakers/jose-muller-test")
    ]
    for query in ("", "a", "zzzz", "\u0000", "x" * 5000):
        body = get_json(client, "/api/suggest", q=query)
        assert set(body) == {"query", "suggestions"} and body["suggestions"] == []
        assert len(body["query"]) <= 100
    response = client.get("/api/suggest", params={"q": "te"})
    assert "max-age" in response.headers["cache-control"]
    assert all(set(s) == SUGGESTION_KEYS for s in response.json()["suggestions"])
