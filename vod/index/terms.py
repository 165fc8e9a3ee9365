"""Term lookups, remembered per segment: a word is found in the terms file once, not four times.

A search asks each segment about each of its terms several times: is it there (the parser's
prefix and compound checks, the scorer), how many documents have it (the order of an AND, the
decision to decode it whole, idf), then where its postings are. Whoosh answers every question
from the terms file's hash table afresh (an md5 of the key and five to eight small reads), and
those reads were a fifth of a search's time on pyvideo (issue #12). `KnownTerms` answers them
from the term's `TermInfo`, read once per segment and kept, absent terms included; a word asked
again by a later search costs a dictionary lookup.

A word is looked up in every searched field, and most fields do not have most words: on pyvideo
five of six lookups a search made outside the LRU were of terms a field does not have (`company`,
`session` and `transcript` have no terms at all there; `tags` and `event` a few hundred). So a
field with few terms in a segment (SMALL_FIELD_TERMS) is also kept whole, as the set of its terms,
read when the version opens (the searched fields: remember_terms) or on its first lookup: a term
it lacks is known absent at once, without a lookup in the file or a place in the LRU, which is
left to the large fields (titles, abstracts).

An index version never changes, so what is kept stays right until the version is closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from whoosh.reading import TermNotFound

from vod.lru import LruCache

# Terms kept per segment: a TermInfo is about 200 bytes with its key, so ~6 MB per segment at
# most. The searched vocabulary of pyvideo (title and abstract words in every searched field)
# is larger; the words people search again and again stay.
TERMS_KEPT = 30_000
# A field with at most this many terms in a segment is kept whole: pyvideo's titles (12k),
# names (9k), tags (2k) and events (600) in about 2 MB for both segments; not its abstracts (48k).
SMALL_FIELD_TERMS = 20_000
_ABSENT = object()  # a term looked up and not found
_UNREAD = object()  # a field whose terms were not read yet


class KnownTerms:
    """A segment's Whoosh terms reader that remembers each term's TermInfo (or its absence).

    It answers the questions a SegmentReader asks of its terms reader (`in`, `term_info`,
    `doc_frequency`, `frequency`, `matcher`); anything else goes to the wrapped reader.
    """

    def __init__(self, terms: Any, size: int = TERMS_KEPT) -> None:
        self._terms = terms
        self._infos: LruCache[object] = LruCache(size)
        # A small field's terms (None: a large field, looked up term by term).
        self._fields: dict[str, frozenset[bytes] | None] = {}

    def field_terms(self, fieldname: str) -> frozenset[bytes] | None:
        """Every term of a small field in this segment (read once), or None for a large one."""
        whole = self._fields.get(fieldname, _UNREAD)
        if whole is _UNREAD:
            whole = self._fields[fieldname] = self._read_field(fieldname)
        return whole  # type: ignore[return-value]  # not _UNREAD any more

    def _read_field(self, fieldname: str) -> frozenset[bytes] | None:
        fieldmap = getattr(self._terms, "_fieldmap", None)
        if fieldmap is None:
            return None  # not a Whoosh 3 terms reader: term by term
        if fieldname not in fieldmap:
            return frozenset()  # the segment has no term in this field
        found: set[bytes] = set()
        for name, tbytes in self._terms.terms_from(fieldname, b""):
            if name != fieldname:
                break
            found.add(tbytes)
            if len(found) > SMALL_FIELD_TERMS:
                return None
        return frozenset(found)

    def _info(self, fieldname: str, tbytes: bytes) -> Any:
        whole = self._fields.get(fieldname, _UNREAD)
        if whole is _UNREAD:
            whole = self.field_terms(fieldname)
        if whole is not None and tbytes not in whole:  # type: ignore[operator]
            return _ABSENT
        key = (fieldname, tbytes)
        info = self._infos.get(key)
        if info is None:
            try:
                info = self._terms.term_info(fieldname, tbytes)
            except TermNotFound:
                info = _ABSENT
            self._infos.put(key, info)
        return info

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self._info(*term) is not _ABSENT

    def term_info(self, fieldname: str, tbytes: bytes) -> Any:
        info = self._info(fieldname, tbytes)
        if info is _ABSENT:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return info

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        info = self._info(fieldname, tbytes)
        if info is _ABSENT:
            raise KeyError((fieldname, tbytes))  # as Whoosh's reader raises: the caller says 0
        return int(info.doc_frequency())

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        info = self._info(fieldname, tbytes)
        if info is _ABSENT:
            raise KeyError((fieldname, tbytes))
        return float(info.weight())

    def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> Any:
        terms = self._terms
        return terms._codec.postings_reader(
            terms._postfile,
            self.term_info(fieldname, tbytes),
            format_,
            term=(fieldname, tbytes),
            scorer=scorer,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._terms, name)


def remember_terms(searcher: Any, fields: Iterable[str] = ()) -> None:
    """Give every segment reader of `searcher` a KnownTerms (once; a Whoosh 3 reader only).

    The terms of `fields` (the searched ones) are read now, when the version opens: on pyvideo
    about 40 ms a segment, which the first searches would otherwise pay inside their budget.
    """
    for sub, _ in searcher.leaf_searchers():
        reader = sub.reader()
        terms = getattr(reader, "_terms", None)
        if terms is None or isinstance(terms, KnownTerms):
            continue
        if hasattr(terms, "_codec") and hasattr(terms, "_postfile"):
            known = KnownTerms(terms)
            for fieldname in fields:
                known.field_terms(fieldname)
            reader._terms = known
