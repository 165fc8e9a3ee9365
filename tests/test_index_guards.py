"""No query pins a core (issue #10, item 5): unbounded shapes are rewritten or refused before
they run (vod/index/guards.py), and generated hostile queries stay within the budget."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from conftest import SAMPLE_CATALOG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from vod.catalog import load_catalog
from vod.errors import QueryError
from vod.index import SearchIndex, build_index, guards
from vod.index import searcher as searcher_module
from vod.index.query import clean_query, expand_prefixes, parse_query
from vod.index.schema import make_schema
from vod.index.scoring import Scored


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    folder = tmp_path_factory.mktemp("guarded-index")
    build_index(load_catalog(SAMPLE_CATALOG), folder)
    return SearchIndex(folder)


def guarded(text: str) -> wq.Query:
    return guards.guard(parse_query(clean_query(text), make_schema()).query)


def parts(q: wq.Query) -> list[wq.Query]:
    if q.is_leaf():
        return [q]
    return [q, *(p for sub in q.children() for p in parts(sub))]


@pytest.mark.parametrize(
    "text",
    [
        "x\\ *",  # an escaped blank that leaves a lone `*`: Every term of eight fields
        "title:*",
        "speaker:* abstract:*",
        "(x\\ *)",
    ],
)
def test_a_lone_star_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(QueryError, match=r"lone \*"):
        guarded(text)


@pytest.mark.parametrize(
    "text", ["python \\ *", "a\u3000ANDNOT(zpython\\\t*", "storage title:* OR ducks"]
)
def test_a_star_beside_words_is_dropped(text: str) -> None:
    q = guarded(text)
    assert not any(isinstance(p, wq.Every) for p in parts(q)), q


def test_a_phrase_of_one_word_repeated_is_that_word() -> None:
    q = guarded('"' + " ".join(["storage"] * 31) + '"')
    assert not any(isinstance(p, wq.Phrase) for p in parts(q)), q
    assert {"storag", "storage"} <= {p.text for p in parts(q) if isinstance(p, wq.Term)}


def test_a_long_phrase_keeps_its_first_words() -> None:
    words = [f"word{n}" for n in range(12)]
    q = guarded("title:" + '"' + " ".join(words) + '"')
    [phrase] = [p for p in parts(q) if isinstance(p, wq.Phrase)]
    assert len(phrase.words) == guards.MAX_PHRASE_WORDS
    assert phrase.words[:2] == ["word0", "word1"]


def test_a_shape_the_guard_does_not_know_is_dropped() -> None:
    q = wq.And([wq.Term("title", "storage"), wq.Variations("title", "ducks")])
    assert guards.guard(q) == wq.Term("title", "storage")


def test_a_term_of_no_field_is_dropped(index: SearchIndex) -> None:
    # The parser makes Term(None, "^3") of this; scoring it raised TermNotFound (a 500).
    q = guarded("storage ( ^3 ducks")
    assert all(isinstance(p.fieldname, str) for p in parts(q) if p.is_leaf()), q
    assert index.search("storage ( ^3 ^3 ducks").total >= 0


def test_an_optional_part_that_only_leaves_out_is_dropped(index: SearchIndex) -> None:
    q = guarded("+ storage NOT storage ")  # hypothesis found it: AndMaybe(storage, Not(storage))
    assert not any(isinstance(p, wq.AndMaybe) for p in parts(q)), q
    assert index._current().scorer.run(q, None, float("inf")) is not None


def test_only_words_to_leave_out_are_refused() -> None:
    with pytest.raises(QueryError, match="leave out"):
        guards.guard(wq.Not(wq.Term("title", "storage")))
    with pytest.raises(QueryError, match="leave out"):
        guards.guard(wq.Or([wq.Term("title", "ducks"), wq.Not(wq.Term("title", "storage"))]))


def test_the_refused_search_says_why(index: SearchIndex) -> None:
    with pytest.raises(QueryError, match=r"lone \*"):
        index.search("x\\ *")


# ---- generated hostile queries ----------------------------------------------------------------

WORDS = ["storage", "testconf", "rubber", "ducks", "ada", "deployment", "zpython", "a", "x"]
PIECES = [
    *WORDS,
    "*",
    "?",
    "\\ ",
    "\\\t",
    "\\",
    "(",
    ")",
    '"',
    "-",
    "+",
    "~",
    "^2",
    "( ^3",
    "title:",
    "speaker:",
    "event:",
    "AND",
    "OR",
    "NOT",
    "ANDNOT",
    "ANDMAYBE",
    "REQUIRE",
    "sto*",
    "*a*",
]
SPACES = [" ", "\t", "\u3000", "\u00a0", "", "\n"]

hostile = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(SPACES)), min_size=1, max_size=40
).map(lambda pairs: "".join(piece + space for piece, space in pairs))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile)
def test_generated_hostile_queries_run_bounded(index: SearchIndex, text: str) -> None:
    schema = index._current().searcher.schema
    try:
        q = guards.guard(parse_query(clean_query(text), schema).query)
    except QueryError:
        q = None
    if q is not None:
        for p in parts(q):
            assert not isinstance(p, wq.Every | wq.Wildcard | wq.FuzzyTerm), (text, q)
            if isinstance(p, wq.Phrase):
                assert len(p.words) <= guards.MAX_PHRASE_WORDS
                assert all(a != b for a, b in zip(p.words, p.words[1:], strict=False))
    started = time.thread_time()
    try:
        results = index.search(text)
    except QueryError:
        return
    # CPU time of this thread, not the wall clock: a busy machine does not move it.
    assert time.thread_time() - started < 1.0, text
    assert results.total >= 0


def test_generated_queries_are_scored_without_whooshs_collector(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    def whooshs_collector(*args: object) -> object:
        raise AssertionError("a guarded query fell back to Whoosh's collector")

    monkeypatch.setattr(searcher_module, "collect", whooshs_collector)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=hostile)
    def run(text: str) -> None:
        with contextlib.suppress(QueryError):
            index.search(text)

    run()


def test_hostile_queries_of_the_issue_are_quick(index: SearchIndex) -> None:
    for text in ["python \\ *", "a\u3000ANDNOT(zpython\\\t*", '"' + " ".join(["ducks"] * 31) + '"']:
        started = time.thread_time()
        SearchIndex(index.index_dir).search(text)
        assert time.thread_time() - started < 1.0, text
    assert Path(index.index_dir).exists()


def test_a_term_of_no_field_is_scored_as_matching_nothing(index: SearchIndex) -> None:
    # Found by the generated queries above: the boost with no word parses to a term whose field
    # is None, and sizing it for the intersection asked Whoosh for a field that does not exist.
    results = index.search("storage ( ^2 ")
    assert results.total >= 0


def test_leaving_out_what_is_left_out_is_searched_as_and(index: SearchIndex) -> None:
    # Found by the generated queries: `x ANDNOT NOT y` parsed to AndNot(x, Not(y)), whose part
    # to leave out has nothing positive, and went to Whoosh's collector. It means `x AND y`.
    q = guarded("storage ANDNOT NOT storage")
    assert not any(isinstance(p, wq.Not) for p in parts(q))
    assert index.search("storage ANDNOT NOT storage").total == index.search("storage").total


# Found by the generated queries (and a fuzz loop of 20,000 more): shapes that went to Whoosh's
# collector. A NOT of several words under AND MAYBE, inside an AND (`sto* NOT ada ANDMAYBE and`);
# an AND MAYBE whose optional part has one (`a ANDMAYBE (testconf AND (NOT testconf ANDMAYBE
# speaker))`); and a prefix without completions, dropped when it is expanded, that left an AND
# of words to leave out only (`NOT deployment ANDNOTANDMAYBE…*`).
COLLECTOR_SHAPES = [
    'x\u3000" sto*\xa0NOT\u3000adaevent:ANDMAYBE\nAND\n',
    "*\ttestconf NOT testconf ANDMAYBE\u3000speaker:\xa0+*a*\xa0",
    "x\u3000ducks NOT \\\t\n)\u3000ANDMAYBE\n\\ \t",
    "NOT deployment ANDNOTANDMAYBEdeploymentzpythonANDMAYBEada*a* ",
    'deploymenttitle:\tducksANDNOT +\tada\nsto*\t\\\n-\t( ^3+*a* "\n'
    "(\u3000ANDMAYBE\nNOT\xa0testconf\u3000",
    '*\xa0ANDMAYBE OR\t~\xa0ANDrubber\u3000rubber( ^3REQUIRE\tevent:\xa0"\xa0a\t(\xa0storage'
    '\xa0-NOT\\ \nANDMAYBE\xa0" storage\nAND*\ndeploymenttestconf\n'
    "*a*\xa0AND\t( ^3\u3000duckszpython\nstorage"
    " \\  zpython\xa0NOT\nada+\xa0ANDNOT\n\\ ",
]


@pytest.mark.parametrize("text", COLLECTOR_SHAPES)
def test_found_shapes_are_scored_without_whooshs_collector(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    def whooshs_collector(*args: object) -> object:
        raise AssertionError("a guarded query fell back to Whoosh's collector")

    monkeypatch.setattr(searcher_module, "collect", whooshs_collector)
    with contextlib.suppress(QueryError):
        assert index.search(text).total >= 0


@pytest.mark.parametrize(
    "text",
    [
        *COLLECTOR_SHAPES[:3],
        "storage AND (NOT ducks ANDMAYBE rubber)",
        "testconf AND (NOT ducks ANDMAYBE storage)",
        "testconf AND (ducks OR NOT storage)",
        "storage AND (NOT ducks AND NOT rubber)",
        "(storage OR testconf) AND (NOT ducks ANDNOT rubber)",
        "storage ANDMAYBE (testconf AND (NOT storage ANDMAYBE ducks))",
    ],
)
def test_words_left_out_inside_a_part_score_as_whoosh_does(index: SearchIndex, text: str) -> None:
    """What vod's scorer finds for these shapes, and each score, is what Whoosh's own does."""
    current = index._current()
    q = expand_prefixes(guarded(text), current.searcher.reader())
    ours = current.scorer.run(q, None, float("inf"))
    assert ours is not None, q
    theirs = dict(current.searcher.search(q, limit=None).items())
    assert ours.scores.keys() == theirs.keys(), q
    assert all(ours.scores[d] == pytest.approx(s) for d, s in theirs.items()), q


def test_leaving_out_beside_a_prefix_that_completes_nothing_finds_nothing(
    index: SearchIndex,
) -> None:
    """`NOT deployment zqxv*`: the prefix has no completions, so the AND has no match (as
    Whoosh finds for it unexpanded), not every talk without `deployment`, which the guard
    refuses to list."""
    text = "NOT deployment zqxvbw*"
    current = index._current()
    assert not current.searcher.search(guarded(text), limit=None)
    q = expand_prefixes(guarded(text), current.searcher.reader())
    assert isinstance(q, wq.Not)  # all that is left once the prefix is dropped
    assert current.scorer.run(q, None, float("inf")) == Scored({})
    assert index.search(text).total == 0
