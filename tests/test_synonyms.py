"""The acronym table: each side finds the other, below the words as typed (issue #12, item 5)."""

from __future__ import annotations

import pytest
from tiny_index import every_word, found, tiny_index

from vod.index import SearchIndex
from vod.index.query import with_alternatives
from vod.index.synonyms import TABLE, parse_table, synonyms

TALKS = [
    {"slug": "ml-long", "title": "Machine learning in production"},
    {"slug": "ml-short", "title": "ML in production"},
    {"slug": "k8s", "title": "Django on Kubernetes"},
    {"slug": "db", "title": "Database integrity in Django"},
    {"slug": "iot", "title": "Servers for IoT devices"},
    {"slug": "crowd", "title": "A crowd-sourced map"},
    {"slug": "learning", "title": "Learning machines by hand", "abstract": "Production lines."},
    {"slug": "ocr", "title": "OCR with Tesseract"},
    {
        "slug": "mentions-ocr",
        "title": "Scanning the archive",
        "abstract": "Optical character recognition read it, then optical character recognition"
        " again. Character recognition is hard.",
    },
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return tiny_index(tmp_path_factory.mktemp("synonyms"), {"TechConf 2020": TALKS})


def test_the_shipped_table_parses_and_every_entry_goes_both_ways() -> None:
    table = parse_table(TABLE.read_text(encoding="utf-8"))
    assert table == synonyms()
    assert table["ml"] == ("machine learning",)
    assert table["machine learning"] == ("ml",)
    assert table["k8s"] == ("kubernetes",)
    for key, others in table.items():
        assert key == key.lower().strip() and others
        for other in others:
            assert key in table[other], (key, other)


def test_a_malformed_line_names_its_line_number() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_table("ml = machine learning\nnot an entry\n")


@pytest.mark.parametrize(
    ("text", "searched"),
    [
        ("ml ops", '(ml OR "machine learning"^0.5) ops'),
        # An acronym for two typed words weighs half of both: still below them.
        ("machine learning ops", "((machine learning) OR ml^1.0) ops"),
        ("optical character recognition", "((optical character recognition) OR ocr^1.5)"),
        ("K8s django", "(K8s OR kubernetes^0.5) django"),
        ("crowd-sourced map", "(crowd-sourced OR crowdsourced) map"),
        ('"ml ops"', '"ml ops"'),  # a phrase is searched as typed
        ("title:ml", "title:ml"),  # so is a word in a field
        ("-ml python", "-ml python"),
    ],
)
def test_queries_get_their_alternatives(text: str, searched: str) -> None:
    assert with_alternatives(text) == searched


def test_an_acronym_finds_its_expansion_below_the_acronym(index: SearchIndex) -> None:
    assert every_word(index, "ml production") == ["ml-short", "ml-long"]
    slugs = found(index, "machine learning production")
    assert slugs[0] == "ml-long" and "ml-short" in slugs


@pytest.mark.parametrize(
    ("query", "slugs"),
    [("k8s django", ["k8s"]), ("db integrity", ["db"]), ("internet of things servers", ["iot"])],
)
def test_acronyms_and_expansions_find_each_other(
    index: SearchIndex, query: str, slugs: list[str]
) -> None:
    assert every_word(index, query) == slugs


def test_an_expansion_is_searched_as_a_phrase(index: SearchIndex) -> None:
    # "learning machines" has both words, not the phrase "machine learning"
    assert "learning" not in found(index, "ml")


def test_a_title_with_the_acronym_ranks_above_an_abstract_with_the_words(
    index: SearchIndex,
) -> None:
    # Three words typed score as three: the acronym standing in for them weighs half of all
    # three, not half of one, or every talk whose abstract has the words comes first.
    assert found(index, "optical character recognition")[:2] == ["ocr", "mentions-ocr"]
