"""The acronym table (synonyms.txt): which words a query also searches, at a lower weight."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("synonyms.txt")
_ENTRY = re.compile(r"^\s*([^=#]+?)\s*=\s*(.+?)\s*$")


def parse_table(text: str) -> dict[str, tuple[str, ...]]:
    """Map each side of every entry (lowercase words joined by one space) to the other side.

    `ml = machine learning` gives {"ml": ("machine learning",), "machine learning": ("ml",)}.
    Raise ValueError for a line that is not an entry or a comment.
    """
    table: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENTRY.match(line)
        if not match:
            raise ValueError(f"synonyms line {number}: expected `short = long, long`: {line!r}")
        short = _words(match.group(1))
        longs = [_words(part) for part in match.group(2).split(",")]
        if not short or not all(longs):
            raise ValueError(f"synonyms line {number}: an empty side: {line!r}")
        table.setdefault(short, []).extend(w for w in longs if w not in table[short])
        for long in longs:
            table.setdefault(long, [])
            if short not in table[long]:
                table[long].append(short)
    return {key: tuple(values) for key, values in table.items() if values}


def _words(text: str) -> str:
    return " ".join(text.lower().split())


@cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """The table shipped with vod, read once."""
    return parse_table(TABLE.read_text(encoding="utf-8"))


@cache
def longest_key() -> int:
    """The most words on one side of an entry."""
    return max(len(key.split()) for key in synonyms())
