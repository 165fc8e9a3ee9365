"""Term lookups remembered per segment (vod/index/terms.py): the same answers as Whoosh's terms
reader, each term read from the terms file once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from whoosh.reading import TermNotFound

from vod.index import SearchIndex
from vod.index import terms as terms_module
from vod.index.terms import KnownTerms


class Counting:
    """A terms reader that counts how often the terms file is asked about a term."""

    def __init__(self, terms: Any) -> None:
        self.terms = terms
        self.asked = 0

    def term_info(self, fieldname: str, tbytes: bytes) -> Any:
        self.asked += 1
        return self.terms.term_info(fieldname, tbytes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.terms, name)


def _segment_readers(index: SearchIndex) -> list[Any]:
    return [sub.reader() for sub, _ in index._current().searcher.leaf_searchers()]


def test_the_served_searcher_remembers_terms(bundled_index_dir: Path) -> None:
    readers = _segment_readers(SearchIndex(bundled_index_dir))
    assert readers
    assert all(isinstance(r._terms, KnownTerms) for r in readers)


def test_answers_are_whooshs_and_each_term_is_read_once(bundled_index_dir: Path) -> None:
    reader = _segment_readers(SearchIndex(bundled_index_dir))[0]
    whooshs = reader._terms._terms
    counting = Counting(whooshs)
    reader._terms = KnownTerms(counting)
    some = [(f, t) for f, t in whooshs.terms() if f in ("title", "abstract")][:50]
    assert some
    for fieldname, tbytes in some:
        for _ in range(3):
            assert (fieldname, tbytes) in reader
            assert reader.doc_frequency(fieldname, tbytes) == whooshs.doc_frequency(
                fieldname, tbytes
            )
            assert reader.frequency(fieldname, tbytes) == whooshs.frequency(fieldname, tbytes)
            mine = list(reader.postings(fieldname, tbytes).all_ids())
            assert mine == list(
                whooshs.matcher(fieldname, tbytes, reader.schema[fieldname].format).all_ids()
            )
    assert counting.asked == len(some)


def test_an_absent_term_is_remembered_as_absent(
    bundled_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a field too large to keep whole (every field, here), term by term.
    monkeypatch.setattr(terms_module, "SMALL_FIELD_TERMS", 0)
    reader = _segment_readers(SearchIndex(bundled_index_dir))[0]
    counting = Counting(reader._terms._terms)
    reader._terms = KnownTerms(counting)
    for _ in range(3):
        assert ("title", b"zzzqxj") not in reader
        assert reader.doc_frequency("title", b"zzzqxj") == 0
        assert reader.frequency("title", b"zzzqxj") == 0
        with pytest.raises(TermNotFound):
            reader.postings("title", b"zzzqxj")
    assert counting.asked == 1


def test_the_kept_terms_are_bounded(bundled_index_dir: Path) -> None:
    reader = _segment_readers(SearchIndex(bundled_index_dir))[0]
    counting = Counting(reader._terms._terms)
    reader._terms = KnownTerms(counting, size=10)
    words = [t for f, t in counting.terms.terms() if f == "abstract"][:30]
    for tbytes in words + words:
        assert ("abstract", tbytes) in reader
    assert counting.asked == 60  # ten kept: the first thirty were forgotten before asked again


def test_a_small_fields_terms_are_kept_whole_and_a_term_it_lacks_is_never_looked_up(
    bundled_index_dir: Path,
) -> None:
    reader = _segment_readers(SearchIndex(bundled_index_dir))[0]
    whooshs = reader._terms._terms
    counting = Counting(whooshs)
    known = KnownTerms(counting)
    reader._terms = known
    titles = frozenset(t for f, t in whooshs.terms() if f == "title")
    assert 0 < len(titles) <= terms_module.SMALL_FIELD_TERMS
    assert known.field_terms("title") == titles
    for _ in range(3):
        assert ("title", b"zzzqxj") not in reader
        assert reader.doc_frequency("title", b"zzzqxj") == 0
        with pytest.raises(TermNotFound):
            reader.postings("title", b"zzzqxj")
        # A field this segment has no term of (the bundled catalog has no companies' words
        # under `session`, say) is empty, not read term by term.
        assert ("no_such_field", b"storage") not in reader
    assert counting.asked == 0
    assert known.field_terms("no_such_field") == frozenset()
    # A term the field has is still read once, then remembered.
    some = sorted(titles)[:5]
    for _ in range(2):
        for tbytes in some:
            assert reader.doc_frequency("title", tbytes) == whooshs.doc_frequency("title", tbytes)
    assert counting.asked == len(some)


def test_a_large_field_is_looked_up_term_by_term(
    bundled_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = _segment_readers(SearchIndex(bundled_index_dir))[0]
    known = KnownTerms(reader._terms._terms)
    abstracts = sum(1 for f, _ in known.terms() if f == "abstract")
    monkeypatch.setattr(terms_module, "SMALL_FIELD_TERMS", abstracts - 1)
    assert known.field_terms("abstract") is None
    assert known.field_terms("event") is not None  # fewer terms than that


def test_the_searched_fields_terms_are_read_when_the_version_opens(
    bundled_index_dir: Path,
) -> None:
    # Not inside the first searches' time budget.
    from vod.index.schema import FIELD_BOOSTS

    for reader in _segment_readers(SearchIndex(bundled_index_dir)):
        assert set(FIELD_BOOSTS) <= set(reader._terms._fields)
