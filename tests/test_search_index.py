"""Issue #3 in the index: transcripts, facets and filters, sorting, snippets, spelling, bounds.

The sample catalog (tests/data/catalog) is indexed with its captions, read from a local store
(tests/data/store holds the one caption file, of the fictional 2023 keynote).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import DATA, SAMPLE_CATALOG
from whoosh import query as wq
from whoosh_highlight import EscapingFormatter

from vod import lru as lru_module
from vod.catalog import Catalog, load_catalog
from vod.errors import QueryError, StorageUnavailable
from vod.index import Filters, SearchIndex, budget, build_index
from vod.index import searcher as searcher_module
from vod.index import snippets as snippets_module
from vod.index.collect import collect
from vod.index.query import clean_query, expand_prefixes, parse_query
from vod.index.schema import FIELD_BOOSTS
from vod.index.scoring import BM25Scorer
from vod.index.searcher import SearchResults
from vod.index.spelling import Speller, edit_distance
from vod.index.transcript import best_cue, cue_records, parse_vtt
from vod.storage import LocalStorage

MEDIA = DATA / "store"
DEPLOY = "continuous-deployment-for-imaginary-services"
ESCAPING = "escaping-untrusted-text"
LIGHTNING = "testconf-2023-lightning-talks"
STORAGE = "distributed-storage-without-tears"
KEYNOTE = "testconf-2024-keynote"
DISCUSSION = "testconf-2024-open-discussion"
DUCKS = "observability-for-rubber-ducks"
STREAMING = "streaming-from-elsewhere"
TALKS_2023 = {DEPLOY, ESCAPING, LIGHTNING}
TALKS_2024 = {STORAGE, KEYNOTE, DISCUSSION, DUCKS, STREAMING}


@pytest.fixture(scope="module")
def sample_catalog() -> Catalog:
    return load_catalog(SAMPLE_CATALOG)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Catalog) -> SearchIndex:
    folder = tmp_path_factory.mktemp("captioned-index")
    build_index(sample_catalog, folder, storage=LocalStorage(MEDIA))
    return SearchIndex(folder)


def slugs(index: SearchIndex, query: str, **kwargs: object) -> list[str]:
    return [h.slug for h in index.search(query, **kwargs).hits]  # type: ignore[arg-type]


# ---- transcripts --------------------------------------------------------------------------------


def test_a_word_only_said_in_the_recording_finds_the_talk_and_the_moment(
    index: SearchIndex,
) -> None:
    [hit] = index.search("flamingo").hits
    assert hit.slug == DEPLOY
    assert hit.matched_in == "transcript"
    assert hit.moment is not None and hit.moment.start == 9  # the first cue that says it
    assert "<mark>flamingo</mark> called Pipeline" in hit.snippet
    assert hit.moment.snippet == hit.snippet


def test_the_cue_with_most_of_the_words_wins(index: SearchIndex) -> None:
    [hit] = index.search("flamingo questions").hits
    assert hit.moment is not None and hit.moment.start == 2650
    assert re.findall(r"<mark>(.*?)</mark>", hit.moment.snippet) == ["flamingo", "questions"]


def test_transcript_field_and_phrase(index: SearchIndex) -> None:
    [hit] = index.search("transcript:rollbacks").hits
    assert (hit.slug, hit.moment and hit.moment.start) == (DEPLOY, 1200)
    [hit] = index.search('said:"nobody edits"').hits
    assert hit.moment is not None and hit.moment.start == 1200
    assert index.search('transcript:"edits nobody"').total == 0  # a phrase keeps its order


def test_abstract_match_keeps_its_snippet_and_adds_the_moment(index: SearchIndex) -> None:
    # "canary checks" is in the abstract and said twice; the abstract gives the snippet.
    [hit] = index.search('"canary checks"').hits
    assert hit.matched_in == "abstract"
    assert hit.moment is not None and hit.moment.start == 17


def test_cue_text_is_escaped_and_its_tags_and_entities_read(index: SearchIndex) -> None:
    [hit] = index.search("pages the on-call").hits
    assert hit.moment is not None and hit.moment.start == 330
    assert "release &amp; <mark>pages</mark> the on-<mark>call</mark>." in hit.moment.snippet
    assert "<v" not in hit.moment.snippet and "Ada" not in hit.moment.snippet
    [hit] = index.search("automatic nobody").hits
    assert "<i>" not in hit.snippet and "automatic" in hit.snippet


def test_transcript_lookup(index: SearchIndex) -> None:
    cues = index.transcript(DEPLOY)
    assert [c.start for c in cues] == [2, 9, 17, 330, 1200, 2650]
    assert cues[0].text == "Good morning, and welcome to the imaginary services keynote."
    assert index.transcript(STORAGE) == ()
    assert index.transcript("no-such-talk") == ()


def test_parse_vtt_reads_cues_and_skips_notes_and_styles() -> None:
    text = (
        "\ufeffWEBVTT\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\nNOTE a comment\r\n\r\n"
        "intro\r\n01:02:03.500 --> 01:02:05.000 align:start\r\n<c.loud>Hello</c> &lt;world&gt;\r\n"
        "second line\r\n\r\n00:07.250 --> 00:08.000\r\n\r\n00:09.000 --> 00:10.000\r\nlast\r\n"
    )
    assert [(c.start, c.text) for c in parse_vtt(text)] == [
        (3723, "Hello <world> second line"),
        (9, "last"),
    ]
    with pytest.raises(ValueError, match="WebVTT"):
        parse_vtt("1\n00:00:01.000 --> 00:00:02.000\nan SRT file\n")


def test_cue_positions_match_the_transcript_field() -> None:
    from vod.index.analysis import TEXT_ANALYZER

    cues = parse_vtt((MEDIA / "testconf-2023" / "continuous-deployment.en.vtt").read_text())
    records = cue_records(cues, TEXT_ANALYZER)
    joined = "\n".join(c.text for c in cues)
    positions = {t.text: t.pos for t in TEXT_ANALYZER(joined, positions=True)}
    cue = best_cue(records, [("rollback", [positions["rollback"]])])
    assert cue is not None and cue.start == 1200


def test_missing_and_broken_captions_are_logged_and_skipped(
    tmp_path: Path, sample_catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    media = tmp_path / "media"
    (media / "testconf-2023").mkdir(parents=True)
    caplog.set_level(logging.WARNING, logger="vod.index.build")
    build_index(sample_catalog, tmp_path / "a", storage=LocalStorage(media))
    assert "continuous-deployment.en.vtt" in caplog.text and "not in the store" in caplog.text
    assert SearchIndex(tmp_path / "a").search("flamingo").total == 0
    caplog.clear()
    (media / "testconf-2023" / "continuous-deployment.en.vtt").write_text("not captions")
    info = build_index(sample_catalog, tmp_path / "b", storage=LocalStorage(media))
    assert "not a WebVTT file" in caplog.text
    assert info.documents == 8


def test_a_store_that_stops_answering_does_not_fail_the_build(
    tmp_path: Path, sample_catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    class DownStore(LocalStorage):
        calls = 0

        def exists(self, key: str) -> bool:
            DownStore.calls += 1
            raise StorageUnavailable("down")

        def read_text(self, key: str, limit: int) -> str | None:
            DownStore.calls += 1
            raise StorageUnavailable("down")

    caplog.set_level(logging.WARNING, logger="vod.index.build")
    build_index(sample_catalog, tmp_path, storage=DownStore(tmp_path))
    assert DownStore.calls == 1  # asked once, then the build goes on with the catalog alone
    assert caplog.text.count("recording store unavailable") == 1
    results = SearchIndex(tmp_path).search("testconf")
    [recording] = [f for f in results.facets if f.name == "recording"]
    assert [(v.key, v.count) for v in recording.values] == [("1", 8)]  # trusted the catalog


# ---- facets, filters and sorting ---------------------------------------------------------------


def facet(results: object, name: str) -> dict[str, tuple[int, bool]]:
    [found] = [f for f in results.facets if f.name == name]  # type: ignore[attr-defined]
    return {v.key: (v.count, v.selected) for v in found.values}


def test_facets_count_every_match(index: SearchIndex) -> None:
    results = index.search("testconf")
    assert results.total == 8
    assert facet(results, "event") == {"testconf-2024": (5, False), "testconf-2023": (3, False)}
    assert facet(results, "year") == {"2024": (5, False), "2023": (3, False)}
    assert facet(results, "speaker")["chloe-sample"] == (3, False)
    assert facet(results, "speaker")["jose-muller-test"] == (2, False)  # live or recorded
    assert facet(results, "company")["fictional-gmbh"] == (2, False)
    # Only the external recording is playable: the store holds captions, not videos.
    assert facet(results, "recording") == {"1": (1, False), "0": (7, False)}
    labels = {v.key: v.label for f in results.facets for v in f.values}
    assert labels["testconf-2023"] == "TestConf 2023"
    assert labels["chloe-sample"] == "Chloé Sample"
    assert labels["fictional-gmbh"] == "Fictional GmbH"
    assert labels["1"] == "Has a recording"


def test_filters_narrow_and_counts_stay_disjunctive(index: SearchIndex) -> None:
    results = index.search("testconf", filters=Filters(event=("testconf-2023",)))
    assert {h.slug for h in results.hits} == TALKS_2023 and results.total == 3
    # The event facet still says what the other event would add.
    assert facet(results, "event") == {"testconf-2024": (5, False), "testconf-2023": (3, True)}
    assert facet(results, "year") == {"2023": (3, False)}
    both = index.search("testconf", filters=Filters(event=("testconf-2023", "testconf-2024")))
    assert both.total == 8
    mixed = index.search("testconf", filters=Filters(year=("2024",), speaker=("chloe-sample",)))
    assert {h.slug for h in mixed.hits} == {KEYNOTE, DUCKS, STREAMING}
    recorded = index.search("testconf", filters=Filters(recording=("1",)))
    assert [h.slug for h in recorded.hits] == [STREAMING]


def test_filter_on_an_unknown_value_finds_nothing_and_stays_listed(index: SearchIndex) -> None:
    results = index.search("testconf", filters=Filters(company=("no-such-company",)))
    assert results.total == 0 and results.hits == ()
    assert facet(results, "company")["no-such-company"] == (0, True)


def test_filters_without_words_list_the_talks_newest_first(index: SearchIndex) -> None:
    results = index.search("", filters=Filters(event=("testconf-2024",)))
    assert results.query == "" and results.sort == "newest"
    assert [h.slug for h in results.hits][:4] == [STREAMING, STORAGE, DUCKS, KEYNOTE]
    assert results.total == 5


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", [STREAMING, STORAGE, DUCKS, KEYNOTE]),
        # An untimed talk is dated to the start of its event's first day.
        ("oldest", [LIGHTNING, DEPLOY, ESCAPING, DISCUSSION, KEYNOTE]),
    ],
)
def test_sort_by_date(index: SearchIndex, sort: str, expected: list[str]) -> None:
    hits = index.search("testconf", sort=sort).hits
    assert [h.slug for h in hits][: len(expected)] == expected


def test_unknown_sort_is_a_query_error(index: SearchIndex) -> None:
    with pytest.raises(QueryError, match="sorted by relevance, newest, oldest"):
        index.search("testconf", sort="random")


# ---- relevance details ---------------------------------------------------------------------------


def test_the_exact_phrase_adds_to_the_score(index: SearchIndex) -> None:
    # The abstract says "canary checks"; the same words in the other order are not the phrase.
    [phrase] = index.search("canary checks").hits
    [words] = index.search("checks canary").hits
    assert phrase.slug == words.slug == DEPLOY
    assert phrase.score > words.score


def test_names_ignore_case_and_accents(index: SearchIndex) -> None:
    for query in ("CHLOE", "chloé", "Chloe", "speaker:CHLOÉ"):
        assert set(slugs(index, query)) == {KEYNOTE, DUCKS, STREAMING}, query


# ---- snippets ------------------------------------------------------------------------------------


def test_title_snippet_keeps_its_closing_characters(index: SearchIndex) -> None:
    [hit] = index.search("untrusted").hits
    assert hit.snippet == "Escaping &quot;<mark>Untrusted</mark>&quot; &lt;Text&gt;"


def test_abstract_snippet_keeps_the_full_stop_and_says_when_it_is_cut(index: SearchIndex) -> None:
    [hit] = index.search("rollbacks").hits
    assert hit.matched_in == "abstract"
    assert hit.snippet.endswith("automatic <mark>rollbacks</mark>.")
    formatter = EscapingFormatter()
    text = "word " * 100 + "needle, " + "word " * 100
    from whoosh import highlight

    from vod.index.analysis import TEXT_ANALYZER

    marked = highlight.highlight(
        text, {"needl"}, TEXT_ANALYZER, highlight.ContextFragmenter(60, 20), formatter
    )
    assert marked.startswith("…") and marked.endswith("…")
    assert "<mark>needle</mark>," in marked


def test_snippets_read_the_words_the_index_kept(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The build keeps the analysed words and spans of each text a snippet marks (the abstract,
    # the title, the presenters: snippets.word_stream); a hit's snippet reads them instead of
    # analysing the texts again. Only a transcript cue is analysed (it is not stored whole).
    analysed: list[str] = []
    real = snippets_module._words

    def counting(text: str, terms: object, analyzer: object) -> object:
        analysed.append(text)
        return real(text, terms, analyzer)  # type: ignore[arg-type]

    monkeypatch.setattr(snippets_module, "_words", counting)
    index._current().results.clear()
    [hit] = index.search("rollbacks").hits
    assert hit.matched_in == "abstract"
    assert hit.snippet.endswith("automatic <mark>rollbacks</mark>.")
    named = index.search("speaker:ada").hits
    assert named and "<mark>Ada</mark>" in named[0].snippet
    [titled] = index.search("untrusted").hits
    assert titled.snippet == "Escaping &quot;<mark>Untrusted</mark>&quot; &lt;Text&gt;"
    monkeypatch.undo()
    with index._using() as current:
        every = [current.searcher.stored_fields(n) for n in range(current.searcher.doc_count_all())]
    stored_texts = {doc.get(name) for doc in every for name in snippets_module.WORD_STREAMS}
    assert analysed and not stored_texts & set(analysed)  # cues only
    for doc in every:
        for name, (stream_field, analyzer, _) in snippets_module.WORD_STREAMS.items():
            if doc.get(name):
                assert doc[stream_field] == snippets_module.word_stream(doc[name], analyzer)


# ---- spelling ------------------------------------------------------------------------------------


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert edit_distance("pandsa", "pandas") == 1
    assert edit_distance("pandsa", "panda") == 1
    assert edit_distance("hetinger", "hettinger") == 1
    assert edit_distance("kubernets", "kubernetes") == 1
    assert edit_distance("abc", "xyzw", limit=2) == 3


def test_speller_prefers_fewer_edits_then_more_talks() -> None:
    speller = Speller.from_frequencies(
        {"pandas": 120, "panda": 4, "django": 300, "dango": 1, "asynchronous": 40, "async": 90}
    )
    assert speller.suggest("pandsa") == ("pandas", 1, 120)
    assert speller.suggest("djnago") == ("django", 1, 300)
    assert speller.suggest("asyncronous") == ("asynchronous", 1, 40)
    assert speller.suggest("zzzzzz") is None
    assert speller.suggest("dango", maxdist=1, min_df=50) == ("django", 1, 300)


def test_correction_searches_the_corrected_words(index: SearchIndex) -> None:
    results = index.search("canery")
    assert (results.corrected, results.searched_corrected) == ("canary", True)
    assert [h.slug for h in results.hits] == [DEPLOY]
    # Words only said in recordings are not offered as corrections: captions are loosely worded.
    assert index.search("flamingp").corrected is None


# ---- bounds -------------------------------------------------------------------------------------


def test_prefixes_share_one_budget_and_the_fourth_is_a_plain_word(index: SearchIndex) -> None:
    reader = index._current().searcher.reader()
    schema = index._current().searcher.schema
    one = expand_prefixes(parse_query(clean_query("tes*"), schema).query, reader)
    many = expand_prefixes(parse_query(clean_query("tes* rub* sto* obs*"), schema).query, reader)
    terms = list(many.iter_all_terms())
    assert len(terms) <= len(list(one.iter_all_terms())) * 2 + 2 * len(FIELD_BOOSTS)
    assert ("people", "obs") in {(f, str(t)) for f, t in terms}  # the fourth, searched as typed
    assert not any(isinstance(q, wq.Prefix) for q in many.leaves())


def test_a_search_out_of_time_is_partial_not_an_error(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = SearchIndex(index.index_dir)  # no answers kept from the other tests' searches
    monkeypatch.setattr(searcher_module, "SEARCH_BUDGET", -1.0)
    results = fresh.search("testconf")
    assert results.partial and results.total == 0 and results.hits == ()
    # A partial answer is not kept: with time to search, the same query finds every talk.
    monkeypatch.setattr(searcher_module, "SEARCH_BUDGET", 1.0)
    assert fresh.search("testconf").total == 8


def test_answers_are_kept_per_index_version(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = SearchIndex(index.index_dir)
    first = fresh.search("rubber ducks")
    scans: list[str] = []
    real = SearchIndex._search

    def counting(self: SearchIndex, raw: str, *args: object) -> SearchResults:
        scans.append(raw)
        return real(self, raw, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchIndex, "_search", counting)
    again = fresh.search("rubber ducks")
    assert scans == [] and again.hits == first.hits and again.total == first.total
    # Another page, sort or filter is another answer.
    fresh.search("rubber ducks", page=2)
    fresh.search("rubber ducks", sort="newest")
    fresh.search("rubber ducks", filters=Filters(year=("2023",)))
    assert scans == ["rubber ducks"] * 3


def test_posting_list_scores_equal_whooshs(index: SearchIndex, bundled_index_dir: Path) -> None:
    queries = [
        "testconf",
        "rubber ducks",
        "chloe OR jose",
        "storage -replication",
        '"canary checks"',
        "tes*",
        "keynote (speaker:ada OR speaker:bob)",
        "production AND NOT keynote",
        "year:2024 testing",
    ]
    for folder, extra in ((index.index_dir, []), (bundled_index_dir, ["llm serving", "gpu*"])):
        searcher = SearchIndex(folder)._current().searcher
        scorer = BM25Scorer(searcher)
        for text in [*queries, *extra]:
            q = expand_prefixes(
                parse_query(clean_query(text), searcher.schema).query, searcher.reader()
            )
            mine = scorer.score(q, budget.now() + 10)
            assert mine is not None, text
            theirs = {-d: s for s, d in collect(searcher, q, None, budget.now() + 10).scored}
            assert set(mine) == set(theirs), text
            for docnum, score in theirs.items():
                assert mine[docnum] == pytest.approx(score, rel=1e-9), text


# ---- suggestions as you type -------------------------------------------------------------------


def test_suggestions_for_a_prefix(index: SearchIndex) -> None:
    found = index.suggest("obs")
    assert [(s.kind, s.label, s.slug) for s in found] == [
        ("talk", "Observability for Rubber Ducks", DUCKS)
    ]
    people = [(s.kind, s.slug) for s in index.suggest("chlo")]
    assert people == [("speaker", "chloe-sample")]
    assert [s.slug for s in index.suggest("MULLER")] == ["jose-muller-test"]  # any word
    assert [s.slug for s in index.suggest("exampleton")] == ["ada-example"]  # an alias
    assert [s.slug for s in index.suggest("rubber du")] == [DUCKS]
    assert index.suggest("o") == []  # one letter is not enough
    assert len(index.suggest("te", limit=3)) <= 3


def test_frequent_terms_are_listed_by_the_build_and_decoded_ahead(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    from vod.index import scoring

    monkeypatch.setattr(scoring, "FREQUENT_MIN", 3)
    info = build_index(sample_catalog, tmp_path)
    terms = scoring.read_frequent_terms(info.path)
    assert ("event", "testconf") in terms  # in all eight talks
    assert scoring.read_frequent_terms(tmp_path / "nowhere") == []
    searcher = SearchIndex(tmp_path)._current().searcher
    scorer = BM25Scorer(searcher)
    open_now = [True, True, False]

    @contextmanager
    def hold() -> Iterator[bool]:
        yield open_now.pop(0) if open_now else False

    done = scorer.warm(terms, 1000, hold)
    assert done >= 8 and scorer.cached(("event", b"testconf")) is not None
    assert scorer.warm(terms, 0, hold) == 0  # over budget, or closed: stops


class Flights:
    """Searches waiting for the same one already under way (LruCache's single flight)."""

    def __init__(self) -> None:
        self.waiting = threading.Semaphore(0)  # released by each search that starts waiting
        self.woken: list[bool] = []  # per waiter: woken by the search it waited for, not a timeout

    def wait_for(self, waiters: int) -> None:
        """Block until `waiters` searches wait for the one under way."""
        for _ in range(waiters):
            assert self.waiting.acquire(timeout=30), "the other searches never waited"


@pytest.fixture
def flights(monkeypatch: pytest.MonkeyPatch) -> Flights:
    flights = Flights()

    class CountedEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            flights.waiting.release()
            woken = super().wait(timeout)
            flights.woken.append(woken)
            return woken

    # Only vod.lru's events are counted: the rest of the process keeps threading.Event.
    monkeypatch.setattr(
        lru_module, "threading", SimpleNamespace(Lock=threading.Lock, Event=CountedEvent)
    )
    # Long enough that a waiter never gives up first: it is woken, or the test has failed.
    monkeypatch.setattr(searcher_module, "FLIGHT_WAIT", 60.0)
    return flights


def test_the_same_search_arriving_at_once_is_searched_once(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch, flights: Flights
) -> None:
    fresh = SearchIndex(index.index_dir)
    scans: list[str] = []
    real = SearchIndex._search

    def slow(self: SearchIndex, raw: str, *args: object) -> SearchResults:
        scans.append(raw)
        flights.wait_for(7)  # a common word on a large index: the others arrive meanwhile
        return real(self, raw, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchIndex, "_search", slow)
    answers: list[SearchResults] = []
    threads = [
        threading.Thread(target=lambda: answers.append(fresh.search("testconf"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert scans == ["testconf"]
    assert len(answers) == 8 and {a.total for a in answers} == {8}
    assert flights.woken == [True] * 7


def test_a_failed_search_does_not_hold_up_the_same_one_waiting(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch, flights: Flights
) -> None:
    fresh = SearchIndex(index.index_dir)
    real = SearchIndex._search
    calls = 0

    def first_fails(self: SearchIndex, raw: str, *args: object) -> SearchResults:
        nonlocal calls
        calls += 1
        if calls == 1:
            flights.wait_for(2)  # the other two wait for this one...
            raise RuntimeError("disk on fire")
        return real(self, raw, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchIndex, "_search", first_fails)
    outcomes: list[object] = []

    def run() -> None:
        try:
            outcomes.append(fresh.search("rubber ducks").total)
        except RuntimeError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 3
    assert sum(isinstance(o, RuntimeError) for o in outcomes) == 1  # only the one that failed
    # ...and are woken as soon as it fails (not after FLIGHT_WAIT), then search for themselves.
    assert flights.woken == [True, True]
