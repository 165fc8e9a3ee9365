"""Suggestions as you type: talk titles and speaker names in which a word starts with the prefix.

Built once per index version, in memory: every title and name is filed under the start of each
of its words, in one sorted list, so a prefix is a bisect and a short scan (no Whoosh search).
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whoosh.analysis import STOP_WORDS
from whoosh.support.charset import accent_map

if TYPE_CHECKING:
    from vod.index.facets import FacetTable

MIN_CHARS = 2  # one letter would list half the catalog
LIMIT = 8  # suggestions returned
MAX_SPEAKERS = 3  # of those, at most this many speakers, so titles still show
KEY_CHARS = 40  # a key longer than this never needs to be typed to be told apart
WORD_STARTS = 6  # a title is filed under its first few words only


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "talk" or "speaker"
    label: str  # the title or the speaker's name
    slug: str  # of the newest talk with the title, for a title several events share
    events: tuple[str, ...] = ()  # a talk's event names, newest first (several: a shared title)


def normalize(text: str) -> str:
    """Fold text for prefix matching: no accents, lowercase, words separated by one blank.

    Letters NFKD does not decompose (Ł, Ø, Đ, ß) are folded the way search folds them
    (Whoosh's accent map), so `lukasz` finds Łukasz Langa here as it does in a search.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(accent_map))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"\w+", plain))


class _Shelf:
    """Entries (key, item) in key order, each item with a rank: lower is shown first."""

    def __init__(self, entries: list[tuple[str, int]], ranks: list[int]) -> None:
        entries.sort()
        self.keys = [k for k, _ in entries]
        self.items = array("I", (i for _, i in entries))
        self.ranks = array("q", (ranks[i] for _, i in entries))

    def best(self, prefix: str, limit: int) -> list[int]:
        lo = bisect_left(self.keys, prefix)
        hi = bisect_left(self.keys, prefix + "\U0010ffff", lo)
        if lo == hi:
            return []
        chosen = heapq.nsmallest(limit * 4, range(lo, hi), key=self.ranks.__getitem__)
        return list(dict.fromkeys(self.items[i] for i in chosen))[:limit]


def _filed_under(text: str, limit: int) -> list[str]:
    words = normalize(text).split()
    keys = []
    for i, word in enumerate(words):
        if i == 0 or (len(word) >= 2 and word not in STOP_WORDS):
            keys.append(" ".join(words[i:])[:KEY_CHARS])
        if len(keys) >= limit:
            break
    return keys


class Suggester:
    """Titles and speaker names of one index version, ready for prefix lookups."""

    def __init__(self, table: FacetTable) -> None:
        # Talks: the newest first, a title that several events share once (with every event).
        # Speakers: those with the most talks first.
        talk_order = sorted(range(table.doc_count), key=lambda d: -table.dates[d])
        event = table.fields["event"]
        shared: dict[str, int] = {}
        self.talks: list[tuple[str, str]] = []
        self.events: list[list[str]] = []
        for d in talk_order:
            title = table.titles[d]
            if not title:
                continue
            n = event.per_doc[d]
            name = event.labels[n] if isinstance(n, int) and 0 <= n < len(event.labels) else ""
            key = normalize(title)
            if key in shared:
                names = self.events[shared[key]]
                if name and name not in names:
                    names.append(name)
                continue
            shared[key] = len(self.talks)
            self.talks.append((table.slugs[d], title))
            self.events.append([name] if name else [])
        talk_entries: list[tuple[str, int]] = []
        for n, (_, title) in enumerate(self.talks):
            talk_entries.extend((key, n) for key in _filed_under(title, WORD_STARTS))
        self.talk_shelf = _Shelf(talk_entries, list(range(len(self.talks))))

        speaker_field = table.fields["speaker"]
        talks_of = speaker_field.count(range(table.doc_count))
        counts = {key: talks_of[i] for i, key in enumerate(speaker_field.keys)}
        people = [
            (slug, names)
            for slug, names in table.speaker_names.items()
            if counts.get(slug) and names and names[0]
        ]
        people.sort(key=lambda p: (-counts[p[0]], p[1][0]))
        self.speakers = [(slug, names[0]) for slug, names in people]
        speaker_entries: list[tuple[str, int]] = []
        for n, (_, names) in enumerate(people):
            for name in dict.fromkeys(names):  # the name and its aliases
                speaker_entries.extend((key, n) for key in _filed_under(name, 4))
        self.speaker_shelf = _Shelf(speaker_entries, list(range(len(self.speakers))))

    def suggest(self, prefix: str, limit: int = LIMIT) -> list[Suggestion]:
        """Return up to `limit` speakers and titles with a word starting with `prefix`."""
        key = normalize(prefix)[:KEY_CHARS]
        if len(key) < MIN_CHARS:
            return []
        people = [
            Suggestion("speaker", self.speakers[n][1], self.speakers[n][0])
            for n in self.speaker_shelf.best(key, min(MAX_SPEAKERS, limit))
        ]
        talks = [
            Suggestion("talk", self.talks[n][1], self.talks[n][0], tuple(self.events[n]))
            for n in self.talk_shelf.best(key, limit - len(people))
        ]
        return people + talks
