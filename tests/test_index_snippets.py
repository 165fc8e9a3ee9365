"""Snippets (vod/index/snippets.py) mark what Whoosh's highlighter marks, analysing words once."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import highlight
from whoosh_highlight import whooshs

from vod.index import snippets
from vod.index.schema import NAME_ANALYZER, TEXT_ANALYZER

WORDS = [
    "Running",
    "runs",
    "the",
    "Łukasz",
    "café",
    "node.js",
    "C++",
    "a",
    "I",
    "data-science",
    "Übermäßig",
    "2.7",
    "talks.We",
    "ÉCOLE",
    "naïve",
    "don't",
    "x",
    "Python",
    "pythonic",
]


texts = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), min_size=0, max_size=400
).flatmap(
    lambda words: st.sampled_from([" ", "  ", ", ", " ... ", "\n"]).map(lambda sep: sep.join(words))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, data=st.data())
def test_marks_equal_whooshs_highlighter(text: str, data: st.DataObject) -> None:
    analyzer = data.draw(st.sampled_from([TEXT_ANALYZER, NAME_ANALYZER]))
    whole = data.draw(st.booleans())
    analysed = sorted({t.text for t in analyzer(text, mode="query")})
    terms = frozenset(
        data.draw(st.lists(st.sampled_from(analysed), max_size=4)) if analysed else []
    )
    terms |= frozenset(data.draw(st.lists(st.sampled_from(["python", "run", "zzz"]), max_size=2)))
    assert snippets._mark(text, terms, analyzer, whole) == whooshs(text, terms, analyzer, whole)


def test_a_long_abstract_is_cut_around_its_matches_as_before() -> None:
    text = " ".join(["Filler words go here."] * 40 + ["We are running Python."] + ["More."] * 40)
    terms = frozenset({"run", "python"})
    for whole in (False, True):
        mine = snippets._mark(text, terms, TEXT_ANALYZER, whole)
        assert mine == whooshs(text, terms, TEXT_ANALYZER, whole)
        assert "<mark>running</mark> <mark>Python</mark>" in mine[0]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(
        st.sampled_from(["run", "a", "bb", "ccc", "dddd", "eeeee", "python", "x" * 10, "y" * 70]),
        max_size=300,
    ),
    gaps=st.sampled_from([" ", ", ", "\n\n"]),
)
def test_dense_matches_make_whooshs_fragments(words: list[str], gaps: str) -> None:
    # Many fragments, of every length: where a fragment's countdown ends exactly at 0, Whoosh
    # swallows the next word, and the next fragment's context starts after it.
    text = gaps.join(words)
    terms = frozenset({"run", "python"})
    assert snippets._mark(text, terms, TEXT_ANALYZER, False) == whooshs(
        text, terms, TEXT_ANALYZER, False
    )


def test_a_fragment_that_ends_exactly_swallows_the_next_word_as_whoosh_does() -> None:
    # "python" opens a fragment with 140 characters to go; 134 more close it at exactly 0.
    text = " ".join(["python", *["x" * 10] * 13, "dddd", "a", "run"])
    terms = frozenset({"run", "python"})
    mine = snippets._mark(text, terms, TEXT_ANALYZER, False)
    assert mine == whooshs(text, terms, TEXT_ANALYZER, False)
    assert mine[0].endswith("… <mark>run</mark>")  # "a" is not the second fragment's context


def test_word_analysis_is_remembered_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snippets, "WORDS_KEPT", 3)
    normal = snippets._Normal(TEXT_ANALYZER)
    assert normal.many(["Running", "tests", "Running", "the"]) == ["run", "test", "run", "the"]
    assert normal("C++") == "c++"
    assert normal("crowd-sourced") == "\x00"  # several terms: never one searched word
    assert len(normal._known) <= 3


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, data=st.data())
def test_a_stored_word_stream_marks_what_analysing_the_text_marks(
    text: str, data: st.DataObject
) -> None:
    analyzer = data.draw(st.sampled_from([TEXT_ANALYZER, NAME_ANALYZER]))
    whole = data.draw(st.booleans())
    stream = snippets.word_stream(text, analyzer)
    assert stream is not None
    analysed = sorted({t.text for t in analyzer(text, mode="query")})
    terms = frozenset(
        data.draw(st.lists(st.sampled_from(analysed), max_size=4)) if analysed else []
    )
    terms |= frozenset(data.draw(st.lists(st.sampled_from(["python", "run", "zzz"]), max_size=2)))
    assert snippets._mark(text, terms, analyzer, whole, stream=stream) == snippets._mark(
        text, terms, analyzer, whole
    )


def test_a_stream_that_is_not_one_is_ignored_and_the_text_analysed() -> None:
    text = "Running Python in production, and running it fast."
    terms = frozenset({"python", "run"})
    expected = snippets._mark(text, terms, TEXT_ANALYZER, False)
    assert "<mark>Python</mark>" in expected[0]
    words, packed = snippets.word_stream(text) or ("", b"")
    for bad in (
        "not a stream",
        (words,),
        (words, "not bytes"),
        (words, packed[:-1]),  # not a whole number of spans
        (words, packed[:-8]),  # one span short of the words
        (words + "\x1fextra", packed),
    ):
        assert snippets._mark(text, terms, TEXT_ANALYZER, False, stream=bad) == expected


def test_a_stream_without_a_searched_word_marks_nothing_without_reading_spans() -> None:
    text = "Databases at scale"
    words, _ = snippets.word_stream(text) or ("", b"")
    # The spans are never decoded when no word is searched: broken ones do not matter.
    stream = (words, b"\x00")
    assert snippets._mark(text, frozenset({"python"}), TEXT_ANALYZER, False, stream=stream) == (
        "",
        frozenset(),
    )


@pytest.mark.parametrize("whole", [False, True])
def test_a_text_past_whooshs_character_limit_is_marked_as_whoosh_marks_it(whole: bool) -> None:
    # Whoosh's fragmenters stop at the first word ending past 32 kB: later matches are unseen.
    text = " ".join(["filler words here"] * 2200 + ["python", "late"] * 20)
    assert len(text) > highlight.DEFAULT_CHARLIMIT
    for terms in (frozenset({"python"}), frozenset({"filler", "python"})):
        assert snippets._mark(text, terms, TEXT_ANALYZER, whole) == whooshs(
            text, terms, TEXT_ANALYZER, whole
        )
