"""The search index: what queries find, snippets, and versioned builds that swap atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CATALOG

from vod.catalog import Catalog, load_catalog
from vod.errors import IndexNotBuilt
from vod.index import SearchIndex, build_index, current_version, index_state, prune_versions
from vod.index import build as build_module
from vod.index import searcher as searcher_module
from vod.index.build import INDEX_FORMAT, KEEP_PREVIOUS, POINTER
from vod.index.schema import talk_document

DEPLOY = "continuous-deployment-for-imaginary-services"
ESCAPING = "escaping-untrusted-text"
LIGHTNING = "testconf-2023-lightning-talks"
STORAGE = "distributed-storage-without-tears"
KEYNOTE = "testconf-2024-keynote"
DISCUSSION = "testconf-2024-open-discussion"
DUCKS = "observability-for-rubber-ducks"
STREAMING = "streaming-from-elsewhere"
ALL = {DEPLOY, ESCAPING, LIGHTNING, STORAGE, KEYNOTE, DISCUSSION, DUCKS, STREAMING}
ARCTIC = "training-arctic-at-snowflake"


@pytest.fixture(scope="module")
def sample_catalog() -> Catalog:
    return load_catalog(SAMPLE_CATALOG)


@pytest.fixture(scope="module")
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Catalog) -> Path:
    index_dir = tmp_path_factory.mktemp("sample-index")
    build_index(sample_catalog, index_dir)
    return index_dir


@pytest.fixture(scope="module")
def sample(sample_index_dir: Path) -> SearchIndex:
    return SearchIndex(sample_index_dir)


@pytest.fixture(scope="module")
def bundled(bundled_index_dir: Path) -> SearchIndex:
    return SearchIndex(bundled_index_dir)


def slugs(index: SearchIndex, query: str, **kwargs: Any) -> list[str]:
    return [hit.slug for hit in index.search(query, **kwargs).hits]


def versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v"))


def pointer(index_dir: Path) -> str:
    return (index_dir / POINTER).read_text().strip()


def without(catalog: Catalog, slug: str, digest: str) -> Catalog:
    """The catalog minus one talk, with its own digest (as if the YAML had changed)."""
    talks = {s: t for s, t in catalog.talks.items() if s != slug}
    return dataclasses.replace(catalog, talks=talks, digest=digest)


# ---- what the sample index finds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("deploying", {DEPLOY}),  # stemming: the abstract says "deployment"
        ("deployment", {DEPLOY}),
        ("deploys", {DEPLOY}),
        ("Rollbacks", {DEPLOY}),
        ("jose muller", {STORAGE, DUCKS}),  # accents folded; live on one, recorded on the other
        ("José Müller-Test", {STORAGE, DUCKS}),  # the hyphen is not a NOT
        ("JOSE MULLER", {STORAGE, DUCKS}),
        ("chloe", {KEYNOTE, DUCKS, STREAMING}),
        ("chloé", {KEYNOTE, DUCKS, STREAMING}),
        ("speaker:jose", {STORAGE, DUCKS}),
        ("speaker:bob", {ESCAPING, DUCKS}),
        ("presenter:exampleton", {DEPLOY, KEYNOTE}),  # an alias
        ('speaker:"chloe sample"', {KEYNOTE, DUCKS, STREAMING}),
        ("company:fictional", {STORAGE, DUCKS}),
        ("session:morning", {DEPLOY, ESCAPING}),
        ('session:"day two"', {STORAGE, STREAMING}),
        ("tag:storage", {STORAGE}),
        ("tag:ci", {DEPLOY}),
        ("year:2023", {DEPLOY, ESCAPING, LIGHTNING}),
        ("event:2024", {STORAGE, KEYNOTE, DISCUSSION, DUCKS, STREAMING}),
        ("testconf", ALL),
        ("production", {KEYNOTE, DEPLOY}),
        ("title:production", {KEYNOTE}),
        ("testing in production", {KEYNOTE}),  # "in" is a stop word, not a required word
        ("the keynote", {KEYNOTE}),
        ("rubber ducks", {DUCKS, LIGHTNING}),
        ('"rubber ducks"', {DUCKS, LIGHTNING}),
        ('"canary checks"', {DEPLOY}),
        ('"checks canary"', set()),  # a phrase keeps its order
        ('"erasure coding"', {STORAGE}),
        ("storage -replication", set()),
        ("storage", {STORAGE}),
        ("stor*", {STORAGE, STREAMING}),  # "storage", and "stored locally"
        ("tracing AND metrics", {DUCKS}),
        ("tracing OR replication", {DUCKS, STORAGE}),
        ("unscheduled conversation", {DISCUSSION}),
        ("Production:keynote", {KEYNOTE}),  # not a field: searched as two words
    ],
)
def test_sample_queries(sample: SearchIndex, query: str, expected: set[str]) -> None:
    results = sample.search(query)
    # Talks with every word come first; a page they do not fill goes on with talks that have
    # some of the words (issue #12), which `all_words` tells apart.
    assert {hit.slug for hit in results.hits[: results.all_words]} == expected
    assert results.all_words == len(expected)
    assert not results.any_terms
    assert not results.searched_corrected


def test_unknown_field_is_searched_as_words(sample: SearchIndex) -> None:
    results = sample.search("slug:keynote")
    assert results.query == "slug keynote"
    # No talk says "slug", so the talks with some of the words are shown.
    assert results.any_terms
    assert [h.slug for h in results.hits] == [KEYNOTE]


def test_stemming_marks_the_word_in_the_abstract(sample: SearchIndex) -> None:
    [hit] = sample.search("deploying").hits
    assert hit.slug == DEPLOY
    assert hit.matched_in == "abstract"
    assert "<mark>deployment</mark> pipeline" in hit.snippet


def test_title_matches_rank_above_abstract_matches(sample: SearchIndex) -> None:
    assert slugs(sample, "production") == [KEYNOTE, DEPLOY]
    assert slugs(sample, "rubber") == [DUCKS, LIGHTNING]


def test_names_found_live_and_in_the_recording(sample: SearchIndex) -> None:
    results = sample.search("jose muller")
    hits = {hit.slug: hit for hit in results.hits}
    assert hits[STORAGE].via_recording is False
    assert hits[STORAGE].matched_in == "presenters (live)"
    assert hits[STORAGE].snippet == "<mark>José</mark> <mark>Müller</mark>-Test"
    assert hits[DUCKS].via_recording is True
    assert hits[DUCKS].matched_in == "presenters (in the recording)"
    assert hits[DUCKS].snippet == "Bob Placeholder ; <mark>José</mark> <mark>Müller</mark>-Test"


def test_speaker_field_finds_live_and_recorded_presenters(sample: SearchIndex) -> None:
    # José is only in the recording of the ducks talk; Chloé only spoke live there.
    recorded = {h.slug: h.via_recording for h in sample.search("speaker:jose").hits}
    assert recorded == {STORAGE: False, DUCKS: True}
    live = {h.slug: h.via_recording for h in sample.search("speaker:chloe").hits}
    assert live == {KEYNOTE: False, DUCKS: False, STREAMING: False}
    [ducks] = [h for h in sample.search("speaker:chloe").hits if h.slug == DUCKS]
    assert ducks.snippet == "Bob Placeholder ; <mark>Chloé</mark> Sample"


def test_alias_match_has_a_plain_snippet(sample: SearchIndex) -> None:
    hits = {h.slug: h for h in sample.search("exampleton").hits}
    assert set(hits) == {DEPLOY, KEYNOTE}
    assert hits[KEYNOTE].matched_in == ""
    assert hits[KEYNOTE].snippet == (
        "Why every system is tested in production eventually, and how to make that boring."
    )


def test_snippets_are_html_escaped(sample: SearchIndex) -> None:
    [hit] = sample.search("owned").hits
    assert hit.slug == ESCAPING
    assert hit.matched_in == "abstract"
    assert "&lt;script&gt;alert(&quot;<mark>owned</mark>&quot;)&lt;/script&gt;" in hit.snippet
    assert "&#x27;quoted&#x27;" in hit.snippet
    assert re.findall(r"<mark>(.*?)</mark>", hit.snippet) == ["owned"]
    outside = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert not set("<>\"'") & set(outside)


def test_title_snippet_is_escaped(sample: SearchIndex) -> None:
    [hit] = sample.search("untrusted").hits
    assert hit.matched_in == "title"
    assert hit.snippet.startswith("Escaping &quot;<mark>Untrusted</mark>&quot; &lt;Text")
    outside = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert not set("<>\"'") & set(outside)


def test_marks_only_around_the_words_searched(sample: SearchIndex) -> None:
    [hit] = sample.search('"canary checks"').hits
    assert re.findall(r"<mark>(.*?)</mark>", hit.snippet) == ["canary", "checks"]


def test_did_you_mean_searches_the_correction_when_nothing_matches(sample: SearchIndex) -> None:
    results = sample.search("obsevability")
    assert results.corrected == "observability"
    assert results.searched_corrected
    assert [h.slug for h in results.hits] == [DUCKS]
    assert results.total == 1
    assert not results.any_terms
    results = sample.search("replicaton storage")
    assert results.corrected == "replication storage"
    assert results.searched_corrected
    assert [h.slug for h in results.hits] == [STORAGE]


def test_no_correction_for_known_words(sample: SearchIndex) -> None:
    results = sample.search("volume")
    assert [h.slug for h in results.hits] == [STORAGE]
    assert results.corrected is None
    assert not results.searched_corrected


def test_or_fallback_when_no_talk_has_every_word(sample: SearchIndex) -> None:
    results = sample.search("rubber storage")
    assert results.any_terms
    assert results.corrected is None
    assert not results.searched_corrected
    assert {h.slug for h in results.hits} == {STORAGE, DUCKS, LIGHTNING}
    assert results.total == 3


def test_or_fallback_after_a_correction_that_finds_nothing(sample: SearchIndex) -> None:
    results = sample.search("zzxqv ducks")
    assert results.any_terms
    assert not results.searched_corrected
    assert {h.slug for h in results.hits} == {DUCKS, LIGHTNING}


def test_nothing_found(sample: SearchIndex) -> None:
    results = sample.search("zzxqv")
    assert (results.total, results.hits, results.any_terms) == (0, (), False)
    assert results.pages == 1


def test_pagination(sample: SearchIndex) -> None:
    pages = [sample.search("testconf", page=n, per_page=3) for n in (1, 2, 3)]
    assert [len(p.hits) for p in pages] == [3, 3, 2]
    assert [p.total for p in pages] == [8, 8, 8]
    assert [p.page for p in pages] == [1, 2, 3]
    assert {p.pages for p in pages} == {3}
    seen = [h.slug for p in pages for h in p.hits]
    assert len(seen) == len(set(seen)) == 8
    assert set(seen) == ALL
    assert [h.slug for h in sample.search("testconf", per_page=8).hits] == seen


def test_pages_out_of_range(sample: SearchIndex) -> None:
    assert sample.search("testconf", page=0).page == 1
    far = sample.search("testconf", page=10_000)
    assert far.page == searcher_module.MAX_PAGE
    assert (far.total, far.hits) == (8, ())


def test_results_carry_the_cleaned_query(sample: SearchIndex) -> None:
    results = sample.search("  slug:keynote  ")
    assert results.query == "slug keynote"


# ---- building, state and swapping -------------------------------------------------------------


def test_build_writes_meta_and_pointer(tmp_path: Path, sample_catalog: Catalog) -> None:
    counted: list[int] = []
    info = build_index(sample_catalog, tmp_path, progress=counted.append)
    assert counted == [1] * 8
    assert (info.documents, info.digest, info.format) == (8, sample_catalog.digest, INDEX_FORMAT)
    assert info.path.parent == tmp_path
    assert info.path.name.startswith("v") and info.path.name.endswith(sample_catalog.digest)
    assert pointer(tmp_path) == info.path.name
    meta = json.loads((info.path / "meta.json").read_text())
    assert meta["documents"] == 8
    assert meta["digest"] == sample_catalog.digest
    assert meta["format"] == INDEX_FORMAT
    assert current_version(tmp_path) == info
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_index_state(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert index_state(tmp_path, sample_catalog) == "missing"
    build_index(sample_catalog, tmp_path)
    assert index_state(tmp_path, sample_catalog) == "current"
    changed = dataclasses.replace(sample_catalog, digest="0123456789abcdef")
    assert index_state(tmp_path, changed) == "stale"
    monkeypatch.setattr(build_module, "INDEX_FORMAT", INDEX_FORMAT + 1)
    assert index_state(tmp_path, sample_catalog) == "stale"


@pytest.mark.parametrize("content", ["", "\n", "../elsewhere", ".building-x", "a/b", "v-nope"])
def test_damaged_pointer_means_missing(
    tmp_path: Path, sample_catalog: Catalog, content: str
) -> None:
    build_index(sample_catalog, tmp_path)
    (tmp_path / POINTER).write_text(content)
    assert current_version(tmp_path) is None
    assert index_state(tmp_path, sample_catalog) == "missing"


def test_version_without_meta_is_missing(tmp_path: Path, sample_catalog: Catalog) -> None:
    info = build_index(sample_catalog, tmp_path)
    (info.path / "meta.json").write_text("{not json")
    assert index_state(tmp_path, sample_catalog) == "missing"


def test_rebuild_swaps_pointer_and_prunes_old_versions(
    tmp_path: Path, sample_catalog: Catalog
) -> None:
    built = []
    for _ in range(KEEP_PREVIOUS + 3):
        info = build_index(sample_catalog, tmp_path)
        built.append(info.path.name)
        assert pointer(tmp_path) == info.path.name  # the newest is live at once
    assert built == sorted(built) and len(set(built)) == len(built)
    # The live version and the KEEP_PREVIOUS newest before it; older ones are gone.
    assert versions(tmp_path) == built[-(KEEP_PREVIOUS + 1) :]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_prune_keeps_previous_versions(tmp_path: Path, sample_catalog: Catalog) -> None:
    build_index(sample_catalog, tmp_path)
    build_index(sample_catalog, tmp_path)
    assert prune_versions(tmp_path) == []
    assert len(versions(tmp_path)) == 2


def test_failed_build_leaves_the_live_index_serving(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_index(sample_catalog, tmp_path)
    index = SearchIndex(tmp_path)
    assert slugs(index, "deploying") == [DEPLOY]
    real = talk_document
    calls = 0

    def failing(catalog: Catalog, talk: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("disk on fire")
        return real(catalog, talk)

    monkeypatch.setattr(build_module, "talk_document", failing)
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_index(without(sample_catalog, STORAGE, "feedfacefeedface"), tmp_path)
    assert calls == 4
    assert pointer(tmp_path) == first.path.name
    assert versions(tmp_path) == [first.path.name]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".building-")] == []
    assert slugs(index, "deploying") == [DEPLOY]  # the open index still answers
    assert index.info == first
    assert slugs(SearchIndex(tmp_path), "erasure coding") == [STORAGE]  # so does a new one


def test_abandoned_build_folders_are_removed(tmp_path: Path, sample_catalog: Catalog) -> None:
    build_index(sample_catalog, tmp_path)
    dead = tmp_path / ".building-v1-abc-999999999"  # no such process
    dead.mkdir()
    (dead / "junk").write_text("half an index")
    alive = tmp_path / f".building-v2-abc-{os.getpid()}"  # a build running right now
    alive.mkdir()
    assert prune_versions(tmp_path) == [dead]
    assert not dead.exists()
    assert alive.exists()
    old = alive.stat().st_mtime - build_module.ABANDONED_AFTER - 1
    os.utime(alive, (old, old))
    assert prune_versions(tmp_path) == [alive]  # too old: its builder is stuck


def test_open_index_follows_the_pointer(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(sample_catalog, tmp_path)
    index = SearchIndex(tmp_path)
    assert slugs(index, "erasure coding") == [STORAGE]
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 3600)
    second = build_index(without(sample_catalog, STORAGE, "feedfacefeedface"), tmp_path)
    assert slugs(index, "erasure coding") == [STORAGE]  # not looked at the pointer yet
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    assert index.search("erasure coding").total == 0
    assert index.info == second
    assert index.info.documents == 7


def test_pages_never_wait_for_a_new_version_to_open(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(sample_catalog, tmp_path)
    index = SearchIndex(tmp_path)
    first = index.info
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    real_open = searcher_module._open_version
    opening, may_open = threading.Event(), threading.Event()
    waited: list[bool] = []

    def slow_open(info: Any) -> Any:
        opening.set()
        # A large index takes a while to open: here, until the test lets it. False: nobody
        # did, because the page path itself was waiting for the open.
        waited.append(may_open.wait(30))
        return real_open(info)

    monkeypatch.setattr(searcher_module, "_open_version", slow_open)
    second = build_index(without(sample_catalog, STORAGE, "feedfacefeedface"), tmp_path)
    assert index.info == first  # the page path keeps the open version...
    assert index.transcript(STORAGE) == ()
    assert opening.wait(10) and waited == []  # ...while the new one is still opening
    may_open.set()
    deadline = time.monotonic() + 10
    while index.info != second:  # opened in the background
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert index.search("erasure coding").total == 0
    assert waited == [True]


def test_switching_versions_closes_the_old_searcher(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    build_index(sample_catalog, tmp_path)
    index = SearchIndex(tmp_path)
    index.search("volume")
    first = index._open
    assert first is not None
    build_index(without(sample_catalog, STORAGE, "feedfacefeedface"), tmp_path)
    assert index.search("volume").total == 0
    assert first.closed  # its files are released: a long-running server does not leak them
    assert index._open is not None
    assert index._open is not first and not index._open.closed


def test_open_index_keeps_serving_when_the_pointer_vanishes(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(sample_catalog, tmp_path)
    monkeypatch.setattr(searcher_module, "POINTER_CHECK_EVERY", 0)
    index = SearchIndex(tmp_path)
    assert slugs(index, "volume") == [STORAGE]
    (tmp_path / POINTER).unlink()
    assert slugs(index, "volume") == [STORAGE]
    with pytest.raises(IndexNotBuilt):
        SearchIndex(tmp_path).search("volume")


def test_no_index_yet(tmp_path: Path) -> None:
    index = SearchIndex(tmp_path)
    with pytest.raises(IndexNotBuilt, match="run `vod index`"):
        index.search("anything")
    with pytest.raises(IndexNotBuilt):
        _ = index.info


# ---- the bundled catalog ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "via_recording"),
    [("Jeff Rasley", False), ("Lawrence Moore", False), ("Hyungtae Kim", True)],
)
def test_bundled_presenters_find_the_snowflake_talk(
    bundled: SearchIndex, name: str, via_recording: bool
) -> None:
    results = bundled.search(name)
    assert [h.slug for h in results.hits] == [ARCTIC]
    assert results.hits[0].via_recording is via_recording
    assert not results.any_terms


@pytest.mark.parametrize(
    ("phrase", "slug"),
    [
        ("core infrastructure systems", "systems-scale-2024-keynote"),
        ("H100 reference cluster architecture", "building-at-scale-with-h100-eos-dgx-superpod"),
        ("deep health checks", "systems-scale-2024-ai-cluster-maintenance"),
        ("largest scale LLaMA training jobs", "systems-scale-2024-storage-for-llama-training"),
        ("robust data governance, lineage tracking", ARCTIC),
        (
            "mitigate stragglers",
            "megascale-scaling-large-language-model-training-to-more-than-10000-gpus",
        ),
        ("poor debugging experiences", "systems-scale-2024-serverless-workflow-orchestration"),
        ("up-leveled paradigms", "systems-scale-2024-cluster-management"),
        ("sticky routing and prompt caching", "systems-scale-2024-llm-serving"),
        ("lessons learned along the way", "systems-scale-2024-genai-infrastructure"),
    ],
)
def test_bundled_abstracts_found_by_a_phrase(
    bundled: SearchIndex, bundled_catalog: Catalog, phrase: str, slug: str
) -> None:
    abstract = " ".join((bundled_catalog.talk(slug).abstract or "").split())
    assert phrase in abstract  # the phrase really is the talk's
    results = bundled.search(f'"{phrase}"')
    assert results.hits[0].slug == slug
    assert results.hits[0].matched_in == "abstract"
    assert not results.any_terms


def test_bundled_exact_title_with_a_stop_word(bundled: SearchIndex) -> None:
    results = bundled.search("Training Arctic at Snowflake")
    assert [h.slug for h in results.hits][: results.all_words] == [ARCTIC]
    assert not results.any_terms  # "at" is not a word a talk must have


def test_bundled_word_before_a_missing_space(bundled: SearchIndex) -> None:
    # The seed has "subsystems.We further discuss"; the word must still be found.
    hits = [h.slug for h in bundled.search("subsystems").hits]
    assert hits == ["systems-scale-2024-serverless-workflow-orchestration"]


def test_bundled_hyphenated_word(bundled: SearchIndex) -> None:
    assert slugs(bundled, "up-leveled") == ["systems-scale-2024-cluster-management"]


@pytest.fixture(autouse=True)
def _fresh_pointer_checks() -> Iterator[None]:
    """Each test sees the default pointer interval unless it patches it."""
    assert searcher_module.POINTER_CHECK_EVERY == 1.0
    yield


def test_a_version_in_use_is_not_pruned(tmp_path: Path, sample_catalog: Catalog) -> None:
    from vod.index.build import LEASES, write_lease

    first = build_index(sample_catalog, tmp_path)
    write_lease(tmp_path, first.path.name)  # this (live) process still searches it
    second = build_index(sample_catalog, tmp_path)
    dead = tmp_path / LEASES / "999999999"  # a process that died while reading `second`
    dead.write_text(second.path.name)
    for _ in range(KEEP_PREVIOUS + 1):
        build_index(sample_catalog, tmp_path)
    assert first.path.exists()  # leased: kept however many builds came after
    assert not dead.exists()  # a dead process's lease is forgotten...
    assert not second.path.exists()  # ...and its version pruned
    versions = sorted(p.name for p in tmp_path.glob("v*"))
    assert len(versions) == KEEP_PREVIOUS + 2  # live + KEEP_PREVIOUS + the leased one
    live = current_version(tmp_path)
    assert live is not None
    write_lease(tmp_path, live.path.name)  # moved on
    build_index(sample_catalog, tmp_path)
    assert not first.path.exists()


def test_searching_records_its_version(tmp_path: Path, sample_catalog: Catalog) -> None:
    from vod.index.build import LEASES

    info = build_index(sample_catalog, tmp_path)
    SearchIndex(tmp_path).search("ada")
    assert (tmp_path / LEASES / str(os.getpid())).read_text() == info.path.name
