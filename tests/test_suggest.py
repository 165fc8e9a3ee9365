"""Suggestions fold letters NFKD leaves alone, and list a shared title once (issue #12, item 7)."""

from __future__ import annotations

from typing import Any

import pytest
from tiny_index import tiny_index

from vod.index import SearchIndex
from vod.index.analysis import NAME_ANALYZER
from vod.index.suggest import normalize

EVENTS: dict[str, list[dict[str, Any]]] = {
    "PyCon US 2019": [
        {"slug": "black-us", "title": "Life is better painted Black", "speakers": ["Łukasz Langa"]},
        {"slug": "forklift-us", "title": "Forklifting Django"},
    ],
    "PyCon AU 2020": [
        {"slug": "forklift-au", "title": "Forklifting Django"},
        {"slug": "oslo", "title": "Søren and the Øresund bridge", "speakers": ["Søren Kierk"]},
    ],
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return tiny_index(tmp_path_factory.mktemp("suggest"), EVENTS)


def test_letters_that_nfkd_leaves_alone_are_folded_as_search_folds_them(
    index: SearchIndex,
) -> None:
    text = "Łukasz Øresund Straße Đorđe"
    assert normalize(text) == " ".join(t.text for t in NAME_ANALYZER(text))  # as search does
    assert normalize("Łukasz Øresund") == "lukasz oresund"
    [speaker] = [s for s in index.suggest("lukasz") if s.kind == "speaker"]
    assert speaker.label == "Łukasz Langa"
    assert [s.slug for s in index.suggest("oresund") if s.kind == "talk"] == ["oslo"]
    assert [s.label for s in index.suggest("soren") if s.kind == "speaker"] == ["Søren Kierk"]


def test_a_title_two_events_share_is_listed_once_with_both_events(index: SearchIndex) -> None:
    talks = [s for s in index.suggest("forklif") if s.kind == "talk"]
    assert len(talks) == 1
    assert talks[0].slug == "forklift-au"  # the newest
    assert talks[0].events == ("PyCon AU 2020", "PyCon US 2019")
    [black] = [s for s in index.suggest("painted") if s.kind == "talk"]
    assert black.events == ("PyCon US 2019",)
