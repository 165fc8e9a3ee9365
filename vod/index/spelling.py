"""Spelling: "did you mean" from the index's own words, in well under a millisecond.

Whoosh's corrector compares the typed word with every word of a field, in Python: on the pyvideo
corpus that is 30-60 ms per field at one edit and 100-370 ms at two. So each index version gets
a small symmetric-delete table (SymSpell's idea), written by the build next to the index: every
indexed word, and every word with one letter deleted (two, for long and common words), hashed
and sorted. A typed word and its one- and two-letter deletions are looked up with bisect; the
few candidates found are checked with an exact edit distance (a swap of two neighbouring letters
counts as one edit).
"""

from __future__ import annotations

import json
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPELLING_WORDS = "spelling.json"
SPELLING_TABLE = "spelling.bin"
# Unstemmed words of these fields make up the vocabulary (Whoosh keeps unstemmed forms of a
# stemmed field under `spell_<field>`).
VOCABULARY_FIELDS = ("spell_title", "spell_abstract", "people")
MIN_WORD = 3
MAX_WORD = 30
TWO_EDITS_MIN = 6  # letters a typed word needs before two edits may correct it
TWO_EDITS_DF = 5  # talks that must use an indexed word for it to be two edits from a typo


def _depth(word: str, df: int) -> int:
    """Letters deleted from an indexed word in the table: two for the long, common words.

    Both sides deleting two letters is what finds a word two edits away (two missing or two
    wrong letters); a typed word is only corrected that far when it is this long (issue #12).
    Rare words get one deletion: they are rarely what a typo meant, and the table stays small
    (+440k entries on pyvideo, about 3.5 MB).
    """
    return 2 if len(word) >= TWO_EDITS_MIN and df >= TWO_EDITS_DF else 1


def _variants(word: str, depth: int) -> set[str]:
    """The word, and the words made by deleting up to `depth` of its letters."""
    found = {word}
    layer = {word}
    for _ in range(depth):
        layer = {w[:i] + w[i + 1 :] for w in layer for i in range(len(w)) if len(w) > 1}
        found |= layer
    return found


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def write_spelling(reader: Any, folder: Path) -> int:
    """Write the vocabulary and its delete table for the index `reader`; return the word count."""
    frequency: dict[str, int] = {}
    for fieldname in VOCABULARY_FIELDS:
        if fieldname not in reader.schema:
            continue
        for term, info in reader.iter_field(fieldname):
            word = term.decode("utf-8") if isinstance(term, bytes) else str(term)
            if MIN_WORD <= len(word) <= MAX_WORD and word.isalpha():
                frequency[word] = frequency.get(word, 0) + info.doc_frequency()
    speller = Speller.from_frequencies(frequency)
    speller.save(folder)
    return len(speller.words)


class Speller:
    """Suggest the most frequent indexed word within one or two edits of a typed word."""

    def __init__(self, words: list[str], df: list[int], keys: array[int], ids: array[int]) -> None:
        self.words = words
        self.df = df
        self.keys = keys
        self.ids = ids

    @classmethod
    def from_frequencies(cls, frequency: dict[str, int]) -> Speller:
        """Build the table for words and how many documents use each."""
        words = sorted(frequency)
        # (key, word number) packed in one int: a list of ints sorts several times faster
        # than a list of tuples, and this is most of the table's build time.
        pairs = [
            (_key(variant) << 32) | n
            for n, word in enumerate(words)
            for variant in _variants(word, _depth(word, frequency[word]))
        ]
        pairs.sort()
        keys = array("I", (p >> 32 for p in pairs))
        ids = array("I", (p & 0xFFFFFFFF for p in pairs))
        return cls(words, [frequency[w] for w in words], keys, ids)

    def save(self, folder: Path) -> None:
        """Write the vocabulary (JSON) and the delete table (binary) into an index version."""
        (folder / SPELLING_WORDS).write_text(
            json.dumps({"words": self.words, "df": self.df}, ensure_ascii=False)
        )
        with (folder / SPELLING_TABLE).open("wb") as fh:
            fh.write(array("I", [len(self.keys)]).tobytes())
            self.keys.tofile(fh)
            self.ids.tofile(fh)

    @classmethod
    def load(cls, folder: Path) -> Speller | None:
        """Load an index version's spelling files; None when the version has none."""
        try:
            raw = json.loads((folder / SPELLING_WORDS).read_text())
            data = (folder / SPELLING_TABLE).read_bytes()
        except (OSError, ValueError):
            return None
        count = array("I", data[:4])[0]
        keys = array("I")
        keys.frombytes(data[4 : 4 + 4 * count])
        ids = array("I")
        ids.frombytes(data[4 + 4 * count : 4 + 8 * count])
        return cls(raw["words"], raw["df"], keys, ids)

    def knows(self, word: str) -> bool:
        """Tell whether some talk has `word` written as it is (not only a word of its stem)."""
        i = bisect_left(self.words, word)
        return i < len(self.words) and self.words[i] == word

    def _ids(self, variants: Iterable[str]) -> set[int]:
        found: set[int] = set()
        keys, ids = self.keys, self.ids
        end = len(keys)
        for variant in variants:
            key = _key(variant)
            i = bisect_left(keys, key)
            while i < end and keys[i] == key:
                found.add(ids[i])
                i += 1
        return found

    def suggest(self, word: str, maxdist: int = 2, min_df: int = 1) -> tuple[str, int, int] | None:
        """Return (word, edits, frequency) of the best correction of `word`, or None.

        Fewer edits win, then the word more talks use; only words used by `min_df` talks or more.
        """
        found = self.candidates(word, maxdist, min_df)
        return found[0] if found else None

    def candidates(
        self, word: str, maxdist: int = 2, min_df: int = 1
    ) -> list[tuple[str, int, int]]:
        """Return (word, edits, frequency) of the indexed words nearest `word`, best first.

        Words one edit away, if there are any; else (with `maxdist` 2) those two edits away
        that the table holds two deep (_depth). Only words used by `min_df` talks or more;
        fewer edits first, then the more used.
        """
        found: dict[int, int] = {}
        for depth in range(1, maxdist + 1):
            for n in self._ids(_variants(word, depth)):
                candidate = self.words[n]
                if candidate == word or self.df[n] < min_df or n in found:
                    continue
                edits = edit_distance(word, candidate, depth)
                if edits <= depth:
                    found[n] = edits
            if found:
                break  # one edit found something: never prefer a two-edit word
        ranked = sorted(found, key=lambda n: (found[n], -self.df[n], self.words[n]))
        return [(self.words[n], found[n], self.df[n]) for n in ranked]


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, before[j - 2] + 1)
            current.append(value)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]
