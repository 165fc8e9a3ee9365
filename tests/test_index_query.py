"""The query guard: what people type becomes a bounded Whoosh query or a friendly QueryError."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import SAMPLE_CATALOG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from vod.catalog import load_catalog
from vod.errors import QueryError
from vod.index import SearchIndex, build_index, guards
from vod.index import query as query_module
from vod.index import searcher as searcher_module
from vod.index.query import (
    MAX_NESTING,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    MAX_TOKEN_CHARS,
    MIN_PREFIX,
    clean_query,
    expand_prefixes,
    parse_query,
    with_alternatives,
)
from vod.index.schema import FIELD_BOOSTS, make_schema

SCHEMA = make_schema()
# Index fields a query may reach: the plain-word fields and the `year:` field.
PUBLIC_FIELDS = {*FIELD_BOOSTS, "year"}


def leaves(q: wq.Query) -> Iterator[wq.Query]:
    if q.is_leaf():
        yield q
    else:
        for sub in q.children():
            yield from leaves(sub)


def parsed(raw: str) -> wq.Query:
    return parse_query(clean_query(raw), SCHEMA).query


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    index_dir = tmp_path_factory.mktemp("query-index")
    build_index(load_catalog(SAMPLE_CATALOG), index_dir)
    return SearchIndex(index_dir)


# ---- nothing to search ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Type a word or two to search for."),
        ("   ", "Type a word or two to search for."),
        ("\t\n\r", "Type a word or two to search for."),
        ("\x00", "Type a word or two to search for."),
        ("\ud800", "Type a word or two to search for."),  # a lone surrogate
        ("\u2028\u2029", "Type a word or two to search for."),
        ("!!!", "Type a word or two to search for: punctuation alone finds nothing."),
        ("(", "Type a word or two to search for: punctuation alone finds nothing."),
        (")", "Type a word or two to search for: punctuation alone finds nothing."),
        ('"', "Type a word or two to search for: punctuation alone finds nothing."),
        ('""', "Type a word or two to search for: punctuation alone finds nothing."),
        ("()", "Type a word or two to search for: punctuation alone finds nothing."),
        ("*", "Type a word or two to search for: punctuation alone finds nothing."),
        ("?", "Type a word or two to search for: punctuation alone finds nothing."),
        ("*:*", "Type a word or two to search for: punctuation alone finds nothing."),
        (":", "Type a word or two to search for: punctuation alone finds nothing."),
        ("AND", "That search has only operators or punctuation; type a word to find."),
        ("OR", "That search has only operators or punctuation; type a word to find."),
        ("NOT", "That search has only operators or punctuation; type a word to find."),
        ("AND OR NOT", "That search has only operators or punctuation; type a word to find."),
        ("(AND)", "That search has only operators or punctuation; type a word to find."),
    ],
)
def test_clean_query_refuses_nothing_to_search(raw: str, message: str) -> None:
    with pytest.raises(QueryError) as error:
        clean_query(raw)
    assert str(error.value) == message


@pytest.mark.parametrize("raw", ["title:(", "speaker:()", "-deploy", "title:( )"])
def test_parse_query_refuses_operators_without_words(raw: str) -> None:
    text = clean_query(raw)
    with pytest.raises(QueryError) as error:
        parse_query(text, SCHEMA)
    assert str(error.value) == (
        "That search has only operators or punctuation; type a word to find."
    )


def test_title_paren_is_balanced_before_parsing() -> None:
    assert clean_query("title:(") == "title:()"


# ---- bounds -----------------------------------------------------------------------------------


def test_too_long_query_names_the_limit() -> None:
    with pytest.raises(QueryError) as error:
        clean_query("a" * 3000)
    assert str(error.value) == (
        "That search is 3,000 characters long; please keep it under 500 characters."
    )
    assert MAX_QUERY_CHARS == 500


def test_limit_counts_after_cleaning() -> None:
    words = " ".join(["w" * 60] * 8)[:MAX_QUERY_CHARS]  # 8 words, 487 characters
    assert clean_query("\x00  " + words + "  \n") == words  # blanks around are not counted
    with pytest.raises(QueryError):
        clean_query("w" * (MAX_QUERY_CHARS + 1))


def test_huge_token_is_refused_before_parsing() -> None:
    with pytest.raises(QueryError, match="100,000 characters long"):
        clean_query("x" * 100_000)


@pytest.mark.parametrize("length", [MAX_TOKEN_CHARS + 1, 200, MAX_QUERY_CHARS])
def test_long_tokens_are_cut(length: int) -> None:
    text = clean_query("z" * length)
    assert text == "z" * MAX_TOKEN_CHARS
    mixed = clean_query("a" * 200 + " deploy " + "b" * 200)
    assert [len(t) for t in mixed.split()] == [MAX_TOKEN_CHARS, 6, MAX_TOKEN_CHARS]
    assert all(len(t.text) <= MAX_TOKEN_CHARS for t in leaves(parsed("q" * length)))


def test_too_many_words() -> None:
    words = " ".join(f"w{i}" for i in range(MAX_TERMS))
    assert clean_query(words) == words
    with pytest.raises(QueryError) as error:
        clean_query(words + " one-more")
    assert str(error.value) == "That search has too many words; please use at most 32."


# ---- wildcards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["*a*", "?ata", "da?a", "*ment", "de*", "*de*ploy*", "a?*", "??ploy"]
)
def test_no_leading_or_short_wildcard_survives(raw: str) -> None:
    q = parsed(raw)
    for leaf in leaves(q):
        assert not isinstance(leaf, wq.Wildcard), leaf
        assert "*" not in leaf.text and "?" not in leaf.text, leaf
        if isinstance(leaf, wq.Prefix):
            assert len(leaf.text) >= MIN_PREFIX


def test_infix_wildcard_becomes_plain_word() -> None:
    assert {(type(t), t.fieldname, t.text) for t in leaves(parsed("*a*"))} == {
        (wq.Term, field, "a") for field in FIELD_BOOSTS
    }


def test_short_prefix_becomes_a_term() -> None:
    assert {(type(t), t.text) for t in leaves(parsed("ab*"))} == {(wq.Term, "ab")}


def test_long_enough_prefix_stays_a_prefix() -> None:
    found = {(type(t), t.fieldname, t.text) for t in leaves(parsed("speaker:ras*"))}
    assert found == {(wq.Prefix, "people", "ras")}
    stem = {(type(t), t.text) for t in leaves(parsed("depl*ment"))}
    assert stem == {(wq.Prefix, "depl")}


def test_fuzzy_and_boost_syntax_is_plain(sample: SearchIndex) -> None:
    assert not any(isinstance(t, wq.FuzzyTerm) for t in leaves(parsed("deploy~2")))
    assert [h.slug for h in sample.search("deployment^3").hits] == [
        "continuous-deployment-for-imaginary-services"
    ]


def test_prefix_expansion_is_flat_and_bounded(
    sample: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = sample._current().searcher.reader()
    completions = [t.decode() for t in reader.expand_prefix("abstract", "t")]
    assert len(completions) > 2  # talk, team, test, tracing... enough to cut
    monkeypatch.setattr(query_module, "PREFIX_EXPANSION", 2)
    expanded = expand_prefixes(wq.Prefix("abstract", "t"), reader)
    assert isinstance(expanded, wq.Or)
    assert expanded.matcher_type == wq.Or.ARRAY_MATCHER
    words = [t.text for t in expanded.subqueries]
    assert len(words) == 2
    assert all(isinstance(t, wq.Term) and t.text.startswith("t") for t in expanded.subqueries)
    frequency = sorted((reader.doc_frequency("abstract", w) for w in completions), reverse=True)
    assert [reader.doc_frequency("abstract", w) for w in words] == frequency[:2]
    assert expand_prefixes(wq.Prefix("abstract", "zzq"), reader) is wq.NullQuery


# ---- fields -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("slug:foo", "slug foo"),
        ("start:5", "start 5"),
        ("position:1", "position 1"),
        ("event_slug:conf", "event_slug conf"),
        ("recording_speakers:kim", "recording_speakers kim"),
        ("Speaker:Rasley", "speaker:Rasley"),
        ("TITLE:arctic", "title:arctic"),
        ("tag:ci year:2024", "tag:ci year:2024"),
        ('"slug:foo"', '"slug:foo"'),  # inside a phrase, nothing is a field
    ],
)
def test_only_public_fields_can_be_named(raw: str, text: str) -> None:
    assert clean_query(raw) == text
    assert {t.fieldname for t in leaves(parsed(raw))} <= PUBLIC_FIELDS


def test_speaker_alias_searches_people() -> None:
    assert parsed("speaker:rasley") == wq.Term("people", "rasley")
    assert parsed("presenter:rasley") == wq.Term("people", "rasley")
    assert parsed("tag:CI") == wq.Term("tags", "ci")


# ---- odd characters and nesting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("deploy\x00ment", "deploy ment"),
        ("data\ud800base", "data base"),
        ("line\u2028break", "line break"),
        ("bell\x07", "bell"),
        ("Cafe\u0301", "Café"),  # normalised to NFC
    ],
)
def test_control_and_surrogate_characters_become_blanks(
    sample: SearchIndex, raw: str, text: str
) -> None:
    assert clean_query(raw) == text
    results = sample.search(raw)
    assert results.query == text


def test_deep_nesting_drops_the_parentheses() -> None:
    deep = "(" * (MAX_NESTING + 1) + "deploy" + ")" * (MAX_NESTING + 1)
    assert clean_query(deep).split() == ["deploy"]
    assert "(" not in clean_query(deep)
    ok = "(" * MAX_NESTING + "deploy" + ")" * MAX_NESTING
    assert clean_query(ok) == ok
    assert clean_query("(" * 400 + "x").split() == ["x"]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("(deploy", "(deploy)"),
        ("deploy)", "deploy "),
        ("storage)replication", "storage replication"),  # the dropped ")" still splits
        ('"unbalanced quote', " unbalanced quote"),
        ('"a" "b', " a   b"),
    ],
)
def test_unbalanced_brackets_and_quotes(raw: str, text: str) -> None:
    assert clean_query(raw) == text


def test_hyphen_inside_a_word_is_not_a_not() -> None:
    q = parsed("speaker:Müller-Test")
    assert q == wq.And([wq.Term("people", "muller"), wq.Term("people", "test")])
    assert not any(isinstance(n, wq.Not) for n in _walk(parsed("up-leveled")))
    assert any(isinstance(n, wq.AndNot) for n in _walk(parsed("storage -replication")))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NOT NOT deploying", ["continuous-deployment-for-imaginary-services"]),
        ("deploying ANDNOT ANDNOT", ["continuous-deployment-for-imaginary-services"]),
        ("NOT AND deploying", ["continuous-deployment-for-imaginary-services"]),
        ('0"ANDNOT"ANDNOT"', []),
        ('NOT"AND 0', []),
    ],
)
def test_operator_runs_that_break_whooshs_parser_are_searched_as_words(
    sample: SearchIndex, raw: str, expected: list[str]
) -> None:
    # Whoosh's parser raises AssertionError or IndexError on these; a search must not.
    assert [h.slug for h in sample.search(raw).hits] == expected


def test_stop_words_are_optional_in_and_queries() -> None:
    q = parsed("storage at scale")
    assert not any(leaf.text == "at" for leaf in leaves(q))
    alone = parsed("at")  # a stop word alone is still searched where it is kept (names)
    assert {leaf.text for leaf in leaves(alone)} == {"at"}


def test_a_fielded_group_of_names_is_not_taken_for_a_stop_word(sample: SearchIndex) -> None:
    q = parsed("keynote (speaker:bob OR speaker:jose)")
    assert {(t.fieldname, t.text) for t in leaves(q) if t.fieldname == "people"} >= {
        ("people", "bob"),
        ("people", "jose"),
    }
    results = sample.search("keynote (speaker:bob OR speaker:jose)")
    assert results.any_terms  # the keynote has neither: the names were required
    both = sample.search("keynote (speaker:ada OR speaker:bob)")
    assert [h.slug for h in both.hits][: both.all_words] == ["testconf-2024-keynote"]
    assert not both.any_terms


def _walk(q: wq.Query) -> Iterator[wq.Query]:
    yield q
    if not q.is_leaf():
        for sub in q.children():
            yield from _walk(sub)


# ---- nothing but QueryError -------------------------------------------------------------------

SYNTAX = st.sampled_from(
    [
        "AND",
        "OR",
        "NOT",
        "ANDNOT",
        "ANDMAYBE",
        "REQUIRE",
        "(",
        ")",
        '"',
        "'",
        "*",
        "?",
        "-",
        "+",
        "~",
        "^",
        "[",
        "]",
        "{",
        "}",
        ":",
        "\\",
        "/",
        "title:",
        "speaker:",
        "tag:",
        "year:",
        "slug:",
        "*:*",
        "ab*",
        "*a*",
        "deploy",
        "José",
        "Müller-Test",
        "rubber",
        "ducks",
        "2024",
        "TO",
        "<",
        ">",
        "=",
        "\x00",
        "\ud800",
        "a" * 70,
        "\u0301",
        "%",
        "&",
        "#",
    ]
)
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=80)
QUERIES = st.one_of(
    ANY_TEXT,
    st.lists(st.one_of(SYNTAX, ANY_TEXT), max_size=12).map(" ".join),
    st.lists(SYNTAX, max_size=20).map("".join),
)


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=QUERIES, page=st.integers(min_value=-3, max_value=60))
def test_search_raises_nothing_but_query_error(sample: SearchIndex, raw: str, page: int) -> None:
    try:
        results = sample.search(raw, page=page)
    except QueryError as exc:
        assert str(exc)  # a message for the person
        return
    assert 1 <= results.page <= 50
    assert results.total >= len(results.hits)
    for hit in results.hits:
        outside = hit.snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in outside and ">" not in outside


def test_query_error_for_long_input_through_search(sample: SearchIndex) -> None:
    with pytest.raises(QueryError, match="500 characters"):
        sample.search("x" * 100_000)


@pytest.mark.parametrize("text", ["storage storage OR NOT storage", "storage ( ^2"])
def test_an_or_with_a_not_and_a_boost_of_nothing_are_bounded(
    sample: SearchIndex, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    # Found by the generated queries of test_index_guards: `x OR NOT y` matched nearly every
    # talk through Whoosh's collector, and `( ^2)` parsed to a term of no field (a crash).
    def whooshs_collector(*args: object) -> object:
        raise AssertionError("fell back to Whoosh's collector")

    monkeypatch.setattr(searcher_module, "collect", whooshs_collector)
    results = sample.search(text)
    assert {h.slug for h in results.hits} == {"distributed-storage-without-tears"}


# ---- words parsed one at a time, then joined (query._parse_words) ----------------------------

PARSE_PIECES = [
    "storage",
    "rubber",
    "ducks",
    "the",
    "at",
    "c++",
    "C#",
    "a/b",
    ".NET",
    "node.js",
    "crowd-sourced",
    "snake_case",
    "pep8",
    "ml",
    "k8s",
    "machine learning",
    '"rubber ducks"',
    '"rubber ducks"~2',
    '"ml ops"^2',
    "(rubber ducks)",
    "(ml OR k8s)",
    "((pep 8) OR pep8)",
    "title:storage",
    "speaker:ada",
    "event:pycon-us-2019",
    "title:(rubber ducks)",
    "sto*",
    "*a*",
    "du?ks",
    "storage^2",
    "AND",
    "OR",
    "NOT",
    "+rubber",
    "-ducks",
    'ab"cd',
    "don't",
    "a\\ b",
    "title:",
    "^3",
    "(",
    ")",
    '"',
]


def _canonical(q: wq.Query) -> object:
    """A query's whole shape: class, field, text, boost, OR scale and children."""
    kids = tuple(_canonical(sub) for sub in q.children()) if not q.is_leaf() else ()
    return (
        type(q).__name__,
        getattr(q, "fieldname", None),
        getattr(q, "text", None),
        tuple(getattr(q, "words", ()) or ()),
        q.boost,
        getattr(q, "scale", None),
        kids,
    )


def _outcome(parse: Any, text: str) -> object:
    try:
        return _canonical(parse(text))
    except Exception as exc:  # both ways must fail alike
        return type(exc).__name__


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(PARSE_PIECES), min_size=1, max_size=8),
    spaces=st.lists(st.sampled_from([" ", "  ", "\t", "\u3000", ""]), min_size=8, max_size=8),
    words=st.sampled_from([query_module.ALL_WORDS, query_module.ANY_WORDS]),
)
def test_words_parsed_alone_then_joined_are_whooshs_parse(
    pieces: list[str], spaces: list[str], words: str
) -> None:
    text = "".join(piece + space for piece, space in zip(pieces, spaces, strict=False))
    try:
        text = with_alternatives(clean_query(text))
    except QueryError:
        return
    parser = query_module._parser(query_module._GROUPS[words])
    parser.schema = SCHEMA
    whole = _outcome(parser.parse, text)
    joined = _outcome(lambda t: query_module._parse_words(parser, t, words), text)
    assert joined == whole, text
    again = _outcome(lambda t: query_module._parse_words(parser, t, words), text)
    assert again == whole, text  # from the kept words too


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    word=st.sampled_from(
        ["storage", "The", "at", "a", "I", "R", "c", "8", "2019", "AND", "or", "Not", "TO", "Ł"]
    )
    | st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=12),
    words=st.sampled_from([query_module.ALL_WORDS, query_module.ANY_WORDS]),
)
def test_a_plain_words_query_is_whooshs_parse(word: str, words: str) -> None:
    # query._plain_word builds a word's query without Whoosh's parsing steps.
    if not query_module._PLAIN_WORD_RE.fullmatch(word):
        return
    parser = query_module._parser(query_module._GROUPS[words])
    parser.schema = SCHEMA
    made = query_module._plain_word(parser, word)
    if made is None:  # an operator's name: Whoosh parses it
        assert word in query_module._OPERATOR_WORDS
        return
    assert _canonical(made) == _canonical(parser.parse(word)), word


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(
        st.sampled_from(["storage", "rubber", "ducks", "the", "at", "a", "R", "ml", "2019", "Ł"])
        | st.sampled_from(PARSE_PIECES)
        | st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=10),
        min_size=1,
        max_size=6,
    ),
    words=st.sampled_from([query_module.ALL_WORDS, query_module.ANY_WORDS]),
)
def test_plain_words_skip_the_last_normalize_and_guard_to_the_same_query(
    pieces: list[str], words: str
) -> None:
    # query._make returns a join of plain words' parses as it is (marked bounded, so guard()
    # passes it through); the full path (stop words, bounds, phrases, normalize, guard) must
    # give the same query.
    try:
        text = with_alternatives(clean_query(" ".join(pieces)))
    except QueryError:
        return
    fast = _outcome(lambda t: guards.guard(query_module._make(t, SCHEMA, words)), text)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(query_module, "_plain_terms", lambda q: False)
        full = _outcome(lambda t: guards.guard(query_module._make(t, SCHEMA, words)), text)
    assert fast == full, text


def test_only_a_plain_words_parse_is_passed_by_guard_unwalked() -> None:
    plain = query_module._make("rubber ducks", SCHEMA, query_module.ALL_WORDS)
    assert getattr(plain, "_vod_bounded", False) and guards.guard(plain) is plain
    for text in ("rubber sto*", '"rubber ducks"', "title:storage -ducks"):
        made = query_module._make(text, SCHEMA, query_module.ALL_WORDS)
        assert not getattr(made, "_vod_bounded", False), text
