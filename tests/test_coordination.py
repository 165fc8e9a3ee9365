"""Any-words tail and coordination (issue #12, item 2): a page is filled, more words first."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_index import found, tiny_index
from whoosh import query as wq

from vod.index import SearchIndex
from vod.index.coordination import clauses, coordinated

TALKS = [
    {"slug": "both", "title": "Kayak maintenance", "abstract": "Repairing a kayak hull."},
    {"slug": "kayak", "title": "Kayak routes"},
    {"slug": "hull", "title": "Hull shapes", "abstract": "Boats and their hulls."},
    {"slug": "common-1", "title": "Rivers and lakes", "abstract": "Paddles and rivers."},
    {"slug": "common-2", "title": "Lakes", "abstract": "Paddles on lakes."},
    {"slug": "common-3", "title": "Rivers", "abstract": "Rivers without paddles."},
    {"slug": "rare", "title": "Walrus sightings"},
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return tiny_index(tmp_path_factory.mktemp("coordination"), {"BoatConf 2020": TALKS})


def test_fewer_than_a_page_goes_on_with_talks_that_have_some_of_the_words(
    index: SearchIndex,
) -> None:
    results = index.search("kayak hull")
    assert [h.slug for h in results.hits][:1] == ["both"]
    assert results.all_words == 1 and not results.any_terms
    assert {h.slug for h in results.hits[1:]} == {"kayak", "hull"}
    assert results.total == 3


def test_more_of_the_words_rank_above_one_rare_word(index: SearchIndex) -> None:
    results = index.search("paddles rivers walrus")  # no talk has all three
    assert results.any_terms
    slugs = [h.slug for h in results.hits]
    assert slugs.index("common-1") < slugs.index("rare")
    assert slugs.index("common-3") < slugs.index("rare")


def test_excluded_words_stay_excluded_in_the_tail(index: SearchIndex) -> None:
    assert "common-3" not in found(index, "paddles walrus -rivers")


def test_coordinated_scores_lift_by_clauses_matched() -> None:
    a, b, c = wq.Term("f", "a"), wq.Term("f", "b"), wq.Term("f", "c")
    table = {a: {1: 5.0, 2: 1.0}, b: {2: 1.0}, c: {3: 9.0, 2: 1.0}}
    scores = coordinated(wq.And([a, b, wq.Not(c)]), lambda q: table[q])
    assert sorted(scores, key=scores.__getitem__, reverse=True) == [1]  # 2 and 3 have c
    scores = coordinated(wq.And([a, b, c]), lambda q: table[q])
    assert max(scores, key=scores.__getitem__) == 2  # three clauses beat one high score
    assert clauses(wq.Or([a, b])) == ([wq.Or([a, b])], [])


def test_a_title_with_every_word_ranks_above_abstracts_that_repeat_them(tmp_path: Path) -> None:
    index = tiny_index(
        tmp_path,
        {
            "CouncilConf 2020": [
                {"slug": "panel", "title": "Python steering council keynote", "abstract": PANEL},
                {"slug": "panel-2", "title": "Steering council panel", "abstract": PANEL},
                {"slug": "address", "title": "Python steering council community address"},
                {"slug": "other", "title": "Gardening", "abstract": "Python gardens."},
            ]
        },
    )
    assert found(index, "python steering council address")[0] == "address"


PANEL = (
    "The steering council's address: the council on the address of the council. Address, "
    "address, address: the steering council addresses Python, the council and its address."
)
