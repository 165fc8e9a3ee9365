"""Any-words tail and coordination (issue #12, item 2): a page is filled, more words first."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_index import found, tiny_index
from whoosh import query as wq

from vod.index import SearchIndex
from vod.index.collect import Matches
from vod.index.coordination import clauses, coordinated, several
from vod.index.searcher import _below, _scored, _with_bonus

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


def test_a_query_of_one_word_does_not_search_for_some_of_its_words(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = wq.Term("f", "a"), wq.Term("f", "b")
    assert several(wq.And([a, b])) and several(wq.AndNot(wq.And([a, b]), wq.Term("f", "c")))
    assert not several(a) and not several(wq.Or([a, b]))  # one word, in several fields
    assert not several(wq.And([a, wq.Not(b)])) and not several(wq.AndNot(a, b))
    tails: list[str] = []
    real = SearchIndex._any_words

    def counting(self: SearchIndex, current: object, parsed: object, *args: object) -> object:
        tails.append(getattr(parsed, "text", ""))
        return real(self, current, parsed, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchIndex, "_any_words", counting)
    # One word (or one and an excluded one) with fewer than a page: all its talks are listed
    # already, and the any-words tail would find the same ones.
    one = index.search("walrus")
    assert [h.slug for h in one.hits] == ["rare"] and not one.any_terms
    assert [h.slug for h in index.search("paddles -rivers").hits] == ["common-2"]
    assert tails == []
    # Two words with fewer than a page: the tail is searched.
    assert {h.slug for h in index.search("walrus hull").hits} == {"rare", "hull", "both"}
    assert len(tails) == 1


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


def _coordinated_as_first_written(
    positive: list[dict[int, float]], negative: list[dict[int, float]]
) -> dict[int, float]:
    """coordinated() as it was first written: every talk of every clause walked in Python."""
    totals: dict[int, float] = {}
    counts: dict[int, int] = {}
    for scores in positive:
        for docnum, value in scores.items():
            totals[docnum] = totals.get(docnum, 0.0) + value
            counts[docnum] = counts.get(docnum, 0) + 1
    for scores in negative:
        for docnum in scores:
            totals.pop(docnum, None)
    if not totals:
        return {}
    lift = max(totals.values())
    return {d: s + (counts[d] - 1) * lift for d, s in totals.items()}


_SCORES = st.dictionaries(st.integers(0, 40), st.floats(0.01, 50, allow_nan=False), max_size=25)


@settings(max_examples=500, deadline=None)
@given(
    positive=st.lists(_SCORES, min_size=1, max_size=5),
    negative=st.lists(_SCORES, max_size=2),
)
def test_coordinated_is_the_first_written_walk(
    positive: list[dict[int, float]], negative: list[dict[int, float]]
) -> None:
    words = [wq.Term("title", f"w{i}") for i in range(len(positive))]
    left_out = [wq.Term("title", f"n{i}") for i in range(len(negative))]
    by_clause = dict(zip([*words, *left_out], [*positive, *negative], strict=True))
    parts = [*words, *(wq.Not(n) for n in left_out)]
    q = wq.And(parts) if len(parts) > 1 else words[0]
    got = coordinated(q, lambda clause: by_clause[clause])
    expected = _coordinated_as_first_written(positive, negative)
    assert got == expected and list(got) == list(expected)


def _below_as_first_written(first: Matches, then: Matches) -> Matches:
    have = {n for _, n in first.scored}
    rest = [(s, n) for s, n in then.scored if n not in have]
    lift = max((s for s, _ in rest), default=0.0)
    scored = [(s + lift, n) for s, n in first.scored] + rest
    seen = list(dict.fromkeys([*first.seen, *then.seen]))
    return Matches(seen, scored, partial=first.partial or then.partial)


def _matches(draw: st.DrawFn) -> Matches:
    scores = draw(_SCORES)
    allowed = draw(st.sets(st.integers(0, 40)))
    return Matches(
        list(scores),
        [(s, -d) for d, s in scores.items() if d in allowed],
        partial=draw(st.booleans()),
    )


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_the_any_words_tail_goes_below_as_first_written(data: st.DataObject) -> None:
    first = data.draw(st.composite(lambda draw: _matches(draw))())
    then = data.draw(st.composite(lambda draw: _matches(draw))())
    got, expected = _below(first, then), _below_as_first_written(first, then)
    assert (got.seen, got.scored, got.partial) == (
        expected.seen,
        expected.scored,
        expected.partial,
    )


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_the_phrase_bonus_is_added_as_first_written(data: st.DataObject) -> None:
    scores = data.draw(_SCORES)
    allowed = data.draw(st.none() | st.frozensets(st.integers(0, 40)))
    scored = _scored(scores, allowed)
    found = Matches(list(scores), scored)
    chosen = data.draw(st.sets(st.sampled_from([-n for _, n in scored]))) if scored else set()
    extra = {d: data.draw(st.floats(0.01, 9, allow_nan=False)) for d in chosen}
    expected = [(s + extra.get(-n, 0.0), n) for s, n in found.scored]  # as first written
    assert _with_bonus(found, dict(scores), allowed, extra) == expected
    assert _with_bonus(found, None, allowed, extra) == expected  # Whoosh's collector's matches
