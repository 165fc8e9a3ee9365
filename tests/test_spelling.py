"""Spelling, round 2 (issue #12, item 1): corpus typos, co-occurrence, two edits, acronyms."""

from __future__ import annotations

import pytest
from tiny_index import found, tiny_index

from vod.index import SearchIndex
from vod.index.query import protected_words
from vod.index.spelling import Speller

FILLER = ["tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "monday"]


def _talks() -> list[dict[str, object]]:
    talks: list[dict[str, object]] = []
    # "parallel" is common; one abstract misspells it "paraller" (a typo the corpus has).
    for n in range(21):
        talks.append({"slug": f"parallel-{n}", "title": f"Parallel solvers {FILLER[n % 7]}"})
    talks.append({"slug": "typo", "title": "Notes from the road", "abstract": "A paraller story."})
    # "grace" (a first name) is far more common than "graph", but only "graph" meets "databases".
    for n in range(8):
        talks.append(
            {
                "slug": f"grace-{n}",
                "title": f"Gardening {FILLER[n % 7]}",
                "speakers": ["Grace Hopper"],
            }
        )
    talks.append({"slug": "graph-db", "title": "Graph databases in practice"})
    talks.append({"slug": "graph-viz", "title": "Drawing a graph"})
    # "asynchronous", in six talks: a long common word, two edits from "asynchrnus".
    for n in range(6):
        talks.append({"slug": f"async-{n}", "title": f"Asynchronous servers {FILLER[n % 7]}"})
    talks.append({"slug": "our", "title": "What our users want", "abstract": "Our plug, our food."})
    return talks


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return tiny_index(tmp_path_factory.mktemp("spelling"), {"SpellConf 2020": _talks()})


def test_a_typo_the_corpus_itself_has_is_corrected_when_it_finds_almost_nothing(
    index: SearchIndex,
) -> None:
    results = index.search("paraller solvers")
    assert results.corrected == "parallel solvers"
    assert results.searched_corrected
    assert {h.slug for h in results.hits} >= {f"parallel-{n}" for n in range(10)}


def test_the_correction_that_meets_the_other_words_beats_the_more_common_one(
    index: SearchIndex,
) -> None:
    results = index.search("grach databases")
    assert results.corrected == "graph databases"
    assert found(index, "grach databases")[0] == "graph-db"


def test_a_long_word_is_corrected_across_two_edits(index: SearchIndex) -> None:
    results = index.search("asynchrnus")  # two letters missing
    assert results.corrected == "asynchronous"
    assert results.searched_corrected and len(results.hits) == 6
    assert index.search("asinchronuos").corrected == "asynchronous"  # two letters wrong


def test_the_any_words_fallback_searches_the_corrected_words(index: SearchIndex) -> None:
    # No talk has all three, and nothing is near zzyzzx; only "graph" finds graph-viz.
    results = index.search("grach databases zzyzzx")
    assert results.corrected == "graph databases zzyzzx"
    assert results.any_terms
    assert [h.slug for h in results.hits][:2] == ["graph-db", "graph-viz"]


def test_acronyms_and_field_syntax_are_never_corrected(index: SearchIndex) -> None:
    assert index.search("OMR").corrected is None  # not "our"
    assert index.search("slug:foo").corrected is None  # not "plug food"
    assert protected_words("slug:foo bar") == frozenset({"slug", "foo"})


def test_candidates_are_nearest_first_then_most_used() -> None:
    speller = Speller.from_frequencies({"graph": 3, "grace": 9, "grant": 1, "asynchronous": 6})
    assert [c for c, _, _ in speller.candidates("grach", maxdist=1)] == ["grace", "graph"]
    assert speller.candidates("asynchrnus") == [("asynchronous", 2, 6)]
    assert speller.candidates("asynchrnus", maxdist=1) == []


def test_word_counts_are_kept_across_searches_and_read_once(index: SearchIndex) -> None:
    from vod.index.query import WordCounts

    current = index._current()
    counts = WordCounts(current.searcher)
    reader = counts.reader
    asked: list[tuple[str, object]] = []
    original = reader.doc_frequency

    def doc_frequency(fieldname: str, text: object) -> int:
        asked.append((fieldname, text))
        return int(original(fieldname, text))

    counts.reader = _Asking(reader, doc_frequency)
    first = counts.frequency("parallel")
    assert first is not None and first >= 21 and asked
    asked.clear()
    assert counts.frequency("parallel") == first and asked == []  # kept
    assert counts.frequency("the") is None  # a stop word: never corrected
    assert counts.frequency("zzyzzx") == 0


def test_which_talks_use_a_word_comes_from_the_scorers_kept_lists_when_it_has_them(
    index: SearchIndex,
) -> None:
    from vod.index.query import WordCounts

    current = index._current()
    from_index = WordCounts(current.searcher).docs("graph")
    assert len(from_index) == 2
    read: list[str] = []
    kept = {("title", b"graph"): [next(iter(from_index))]}

    def kept_ids(fieldname: str, btext: bytes) -> list[int] | None:
        read.append(fieldname)
        return kept.get((fieldname, btext))

    counts = WordCounts(current.searcher, kept_ids)
    # The kept title list (one talk, on purpose) is used instead of the index's title postings.
    assert counts.docs("graph") == frozenset(kept[("title", b"graph")])
    assert "title" in read and "abstract" in read
    # With the scorer's own kept lists, the answer is the index's.
    scorer = current.scorer
    for fieldname in ("title", "abstract"):
        if scorer.kept_ids(fieldname, b"graph") is None and (fieldname, b"graph") in scorer.reader:
            scorer.decode(fieldname, b"graph")
    assert scorer.kept_ids("title", b"graph") is not None
    assert WordCounts(current.searcher, scorer.kept_ids).docs("graph") == from_index


class _Asking:
    """A reader whose doc_frequency is `doc_frequency`; everything else is `reader`'s."""

    def __init__(self, reader: object, doc_frequency: object) -> None:
        self._reader = reader
        self.doc_frequency = doc_frequency

    def __getattr__(self, name: str) -> object:
        return getattr(self._reader, name)


def _more_talks() -> list[dict[str, object]]:
    talks: list[dict[str, object]] = []
    # "bug" meets "code" in more talks than "debug" does: `dbug` still meant debug.
    for n in range(6):
        talks.append({"slug": f"bug-{n}", "title": f"Bug hunting in code {FILLER[n % 7]}"})
    for n in range(3):
        talks.append({"slug": f"debug-{n}", "title": f"Debug your code {FILLER[n % 7]}"})
    # A stemmer makes `creaing` "crea", which three Spanish talks have; "creating", sixty.
    for n in range(3):
        talks.append({"slug": f"crea-{n}", "title": f"Crea tu aplicación {FILLER[n % 7]}"})
    for n in range(60):
        talks.append({"slug": f"creating-{n}", "title": f"Creating pipelines {FILLER[n % 7]}"})
    # "reno" (a tool) is in one talk, with "release"; "repo" in 25, 15 of them with "release".
    talks.append({"slug": "reno", "title": "Reno: release notes that stay right"})
    for n in range(25):
        words = "Release from the repo" if n < 15 else "The repo of a team"
        talks.append({"slug": f"repo-{n}", "title": f"{words} {FILLER[n % 7]}"})
    # A stemmer makes "procession" `process`, which meets "career" in twelve talks; the word
    # itself is in one talk, and "progression" in three, all with "career".
    talks.append({"slug": "procession", "title": "A procession of floats"})
    for n in range(12):
        talks.append({"slug": f"process-{n}", "title": f"Career processes {FILLER[n % 7]}"})
    for n in range(3):
        talks.append({"slug": f"progression-{n}", "title": f"Career progression {FILLER[n % 7]}"})
    return talks


@pytest.fixture(scope="module")
def more(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return tiny_index(tmp_path_factory.mktemp("spelling-more"), {"TypoConf 2021": _more_talks()})


def test_a_correction_that_keeps_the_first_letter_is_preferred(more: SearchIndex) -> None:
    results = more.search("dbug code")
    assert results.corrected == "debug code"  # not "bug code", though bug meets code more
    assert set(found(more, "dbug code")[:3]) == {"debug-0", "debug-1", "debug-2"}


def test_a_word_no_talk_has_is_corrected_though_its_stem_is_in_a_few(more: SearchIndex) -> None:
    results = more.search("creaing pipelines")
    assert results.corrected == "creating pipelines"
    assert results.searched_corrected
    assert all(h.slug.startswith("creating-") for h in results.hits)


def test_a_rare_word_that_meets_the_corrected_words_is_left_as_typed(more: SearchIndex) -> None:
    results = more.search("reelase reno")
    assert results.corrected == "release reno"  # the typo fixed, the tool's name kept
    assert found(more, "reelase reno")[0] == "reno"


def test_a_swap_of_the_first_two_letters_keeps_the_first_letter() -> None:
    from vod.index.query import _first_letter_changed

    assert not _first_letter_changed("ptyhon", "python")
    assert not _first_letter_changed("yptohn", "python")  # typed by someone who knew
    assert _first_letter_changed("dbug", "bug") and not _first_letter_changed("dbug", "debug")


def test_a_correction_meets_the_other_words_by_itself_not_by_its_stem(more: SearchIndex) -> None:
    results = more.search("progession career")
    assert results.corrected == "progression career"  # not procession, though `process`...
    assert {h.slug for h in results.hits[:3]} == {f"progression-{n}" for n in range(3)}
