"""Tech names, compounds and word forms reach the index and the query alike (issue #12, item 4)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_index import every_word, found, tiny_index

from vod.index import SearchIndex
from vod.index.analysis import NAME_ANALYZER, TEXT_ANALYZER, WORD_PATTERN, derive
from vod.index.build import INDEX_FORMAT
from vod.index.transcript import cue_records, parse_vtt

TALKS: list[dict[str, Any]] = [
    {"slug": "cpp", "title": "Embedding Python in C++ programs"},
    {"slug": "csharp", "title": "C# is slightly better than you might imagine"},
    {"slug": "dotnet", "title": "Python for .NET developers"},
    {"slug": "fsharp", "title": "Type providers in F#"},
    {"slug": "rlang", "title": "Interfacing R and Python"},
    {"slug": "plain-c", "title": "Writing safe extensions in C"},
    {"slug": "node", "title": "Moving away from NodeJS for assets"},
    {"slug": "node-dot", "title": "Modern JavaScript and Node.js with Django"},
    {"slug": "ab", "title": "A/B testing at scale", "abstract": "Experiments done right."},
    {"slug": "crowd-hyphen", "title": "Real-time crowd-sourced detection of earthquakes"},
    {"slug": "crowd-closed", "title": "A crowdsourced map of supermarket queues"},
    {"slug": "formatter", "title": "Any code formatter you like, as long as it is Black"},
    {"slug": "detector", "title": "Building a pet detector in notebooks"},
    {"slug": "scanner", "title": "A port scanner in forty lines"},
    {"slug": "initial", "title": "Gardening with robots", "speakers": ["Jeffrey C. Smith"]},
    {"slug": "testing", "title": "Testing without fear", "abstract": "Tests, a b and c."},
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return tiny_index(tmp_path_factory.mktemp("analysis"), {"TechConf 2020": TALKS})


@pytest.mark.parametrize(
    ("query", "slugs"),
    [
        ("C++", ["cpp"]),  # not the speaker whose middle initial is C
        ("c#", ["csharp"]),
        (".NET", ["dotnet"]),
        ("F#", ["fsharp"]),
        ("R python", ["rlang"]),
        ("C extensions", ["plain-c"]),
        ("node.js", ["node-dot", "node"]),
        ("nodejs", ["node-dot", "node"]),
        ("a/b testing", ["ab"]),
        ("crowdsourced", ["crowd-closed", "crowd-hyphen"]),
        ("crowd-sourced", ["crowd-hyphen", "crowd-closed"]),
        ("formatting", ["formatter"]),
        ("detection pets", ["detector"]),
        ("scanning ports", ["scanner"]),
    ],
)
def test_tech_names_compounds_and_word_forms_find_their_talks(
    index: SearchIndex, query: str, slugs: list[str]
) -> None:
    assert sorted(every_word(index, query)) == sorted(slugs)


def test_a_phrase_across_a_compound_still_matches(index: SearchIndex) -> None:
    assert found(index, '"crowd-sourced detection"') == ["crowd-hyphen"]
    assert found(index, '"crowdsourced detection"') == ["crowd-hyphen"]
    assert found(index, '"crowd sourced detection"') == ["crowd-hyphen"]


def test_the_analyzers_keep_tech_names_and_drop_other_single_letters() -> None:
    assert [t.text for t in TEXT_ANALYZER("C++ C# F# .NET a/b R x")] == [
        "c++",
        "c#",
        "f#",
        ".net",
        "a/b",
        "r",
    ]
    assert [t.text for t in NAME_ANALYZER("Jeffrey C. Smith")] == ["jeffrey", "c", "smith"]
    assert "c" not in [t.text for t in NAME_ANALYZER("C++")]


def test_a_compound_shares_its_last_parts_position() -> None:
    tokens = [
        (t.text, t.pos) for t in TEXT_ANALYZER("state-of-the-art crowd-sourced map", positions=True)
    ]
    assert tokens == [
        ("state", 0),
        ("art", 1),
        ("stateoftheart", 1),
        ("crowd", 2),
        ("sourc", 3),
        ("crowdsourc", 3),
        ("map", 4),
    ]


def test_cue_positions_count_positions_not_terms() -> None:
    cues = parse_vtt(
        "WEBVTT\n\n00:00.000 --> 00:01.000\ncrowd-sourced data\n\n"
        "00:01.000 --> 00:02.000\nnext cue\n"
    )
    records = cue_records(cues, TEXT_ANALYZER)
    assert [position for _, _, position in records] == [0, 3]


@pytest.mark.parametrize(
    ("stem", "derived"),
    [
        ("formatt", "format"),
        ("debugg", "debug"),
        ("detector", "detect"),
        ("compressor", "compress"),
        ("scanner", "scan"),
        ("factor", "factor"),
        ("vector", "vector"),
        ("runner", "runner"),  # six letters: too short to be sure (`better`, `letter`)
        ("python", "python"),
    ],
)
def test_agent_nouns_meet_their_verbs(stem: str, derived: str) -> None:
    assert derive(stem) == derived


# The analyzers' output for this text, by index format: an analyzer change without a new
# INDEX_FORMAT (build.py) would leave old indexes in place, searched with different terms.
ANALYZED = {
    7: "c++ c# .net a/b r crowd sourc crowdsourc format detect scan nodej 2.7 "
    "muller test mullertest snake case snakecas init pep 8",
}
ANALYZED[8] = ANALYZED[7]  # the same analysis; the abstract's words are stored for snippets
ANALYZED[9] = ANALYZED[8]  # the same; the title's and presenters' words are stored too
ANALYZED[10] = ANALYZED[9]  # the same; stored fields are kept uncompressed (codec.py)
ANALYZED[11] = ANALYZED[10]  # the same here; a CJK run touching Latin letters is split off


def test_changing_the_analyzers_needs_a_new_index_format() -> None:
    text = (
        "C++ C# .NET a/b R crowd-sourced formatter detector scanner Node.js 2.7 Müller-Test "
        "snake_case __init__ PEP 8"
    )
    assert " ".join(t.text for t in TEXT_ANALYZER(text)) == ANALYZED[INDEX_FORMAT]


def test_snake_case_and_numbers_apart_or_together_find_each_other(tmp_path: Path) -> None:
    index = tiny_index(
        tmp_path,
        {
            "NumConf 2020": [
                {"slug": "pep8", "title": "Jane Austen on PEP8"},
                {"slug": "pep-8", "title": "An overview of PEP 8"},
                {"slug": "queue", "title": "0_celery-an-asynchronous-task-queue-not-only-for-x"},
                {"slug": "snake", "title": "The snake_case debate"},
            ]
        },
    )
    assert sorted(every_word(index, "pep 8")) == ["pep-8", "pep8"]
    assert sorted(every_word(index, "pep8")) == ["pep-8", "pep8"]
    assert every_word(index, "celery task queue") == ["queue"]
    assert every_word(index, "snakecase") == ["snake"]
    assert every_word(index, "snake case") == ["snake"]


# WORD_PATTERN as first written: the tech names tried first, each behind its own boundary check.
# The pattern in analysis.py is the same tokenizer, written to fail fast at ordinary words.
READABLE_WORD_PATTERN = re.compile(
    r"(?<![\w.])(?i:\.net)(?!\w)"
    r"|\b[A-Za-z](?:\+\+|#)(?![\w+#])"
    r"|\b(?i:a/b)\b"
    r"|{w}(?:\.(?![A-Z]){w})*(?:-{w}(?:\.(?![A-Z]){w})*)*".replace(
        # A word's letters are all CJK (Hangul, kana, ideographs) or all not.
        "{w}",
        "(?:[^\\W{cjk}]+|[{cjk}]+)".format(
            cjk=r"\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
            r"\uf900-\ufaff"
        ),
    )
)
PIECES = [*"aAbBcCfFnNeEtTrR.+#/-_ 1é\u0141\n", ".NET", ".net", "C++", "a/b", "A/B", "c#", "F#"]
PIECES += [*"の話で으로機"]  # kana, Hangul and an ideograph, touching the others


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join) | st.text(max_size=30))
def test_the_word_pattern_finds_what_its_readable_form_finds(text: str) -> None:
    spans = [m.span() for m in WORD_PATTERN.finditer(text)]
    assert spans == [m.span() for m in READABLE_WORD_PATTERN.finditer(text)]


def test_latin_words_touching_cjk_letters_find_their_talks(tmp_path: Path) -> None:
    index = tiny_index(
        tmp_path,
        {
            "PyCon JP 2019": [
                {"slug": "ml-ja", "title": "Pythonで始める機械学習"},
                {"slug": "django-ja", "title": "Djangoの話"},
                {"slug": "aws-ko", "title": "Tiamat: Python으로 만드는 AWS provisioning tool"},
                {"slug": "iot-zh", "title": "用Python與Raspberry Pi打造手持式無線IoT設備"},
            ]
        },
    )
    assert sorted(every_word(index, "python")) == ["aws-ko", "iot-zh", "ml-ja"]
    assert every_word(index, "django") == ["django-ja"]
    assert every_word(index, "raspberry pi iot") == ["iot-zh"]
    assert every_word(index, "python aws provisioning") == ["aws-ko"]
    assert every_word(index, "の話") == ["django-ja"]  # the CJK run itself, as before
    hit = index.search("django").hits[0]
    assert "<mark>Django</mark>の話" in (hit.title or "")
