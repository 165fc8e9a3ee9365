"""Conference names in a query: "PyCon US 2019 asyncio" ranks PyCon US 2019's talks first (#12).

A query's words are compared with every event's name and slug, stop words kept ("US" tells
PyCon US from PyCon AU, though the text fields drop it as an English stop word). An event is
named when the query has its year (if its name has one) and at least one of its other words
that is not a common one (`python`, `data`, `conf`); of those, the events with most of their
words in the query and fewest missing are the ones named. More than a few equally named events
(`pycon 2019`) name none: the words still search the event field as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from vod.index.analysis import NAME_ANALYZER

MAX_NAMED = 3  # events one query may name; more equally good ones are no choice at all
# Words of event names that say little on their own: many events use them, and talks too.
COMMON = frozenset(
    [
        "python",
        "py",
        "data",
        "web",
        "conf",
        "conference",
        "con",
        "day",
        "days",
        "meetup",
        "meetups",
        "summit",
        "sprint",
        "sprints",
        "the",
        "of",
        "and",
        "in",
        "on",
        "at",
        "for",
        "live",
        "online",
        "edition",
        "annual",
    ]
)
_YEAR = re.compile(r"^(19|20)\d\d$")


def _words(text: str) -> frozenset[str]:
    return frozenset(t.text for t in NAME_ANALYZER(text, mode="query"))


@dataclass(frozen=True)
class _Event:
    slug: str
    years: frozenset[str]
    words: frozenset[str]  # the other words of its name and slug


class EventNames:
    """The events of one index version, to find the ones a query names."""

    def __init__(self, events: Iterable[tuple[str, str]]) -> None:
        self.events: list[_Event] = []
        self.by_word: dict[str, list[int]] = {}
        for slug, name in events:
            words = _words(f"{name} {slug}")
            years = frozenset(w for w in words if _YEAR.match(w))
            event = _Event(slug, years, words - years)
            for word in event.words - COMMON:
                self.by_word.setdefault(word, []).append(len(self.events))
            self.events.append(event)

    def named(self, text: str) -> tuple[str, ...]:
        """The slugs of the events `text` names (none, or up to MAX_NAMED equally named)."""
        typed = _words(text)
        candidates = {n for word in typed if word in self.by_word for n in self.by_word[word]}
        best: tuple[int, int] | None = None
        chosen: list[str] = []
        for n in candidates:
            event = self.events[n]
            if event.years and not event.years & typed:
                continue
            if not event.years and not event.words <= typed:
                continue
            rank = (len(event.words & typed), -len(event.words - typed))
            if best is None or rank > best:
                best, chosen = rank, [event.slug]
            elif rank == best:
                chosen.append(event.slug)
        return tuple(sorted(chosen)) if len(chosen) <= MAX_NAMED else ()
