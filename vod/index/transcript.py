"""Transcripts: WebVTT captions read into timed cues, and the cue a search matched.

A transcript is indexed as one text field of the talk's document, and its cues are stored beside
it, so a hit can say *when* the words were said and link to `/talks/{slug}?t={start}`.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_CUES = 5000  # a three-hour recording has ~2,500 cues; more is not a caption file
MAX_CUE_CHARS = 500  # one cue is a line or two; longer text is cut
MAX_CAPTION_BYTES = 2_000_000  # a VTT file larger than this is not read

_TIMING_RE = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s+-->\s+"
    r"(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
# Voice, class, language and timestamp tags inside a cue: `<v Ada>`, `<c.loud>`, `<00:01.000>`.
_TAG_RE = re.compile(r"</?[A-Za-z0-9][^>\n]*>|<\d[^>\n]*>")


@dataclass(frozen=True)
class Cue:
    """One caption cue: when it starts (whole seconds into the recording) and what it says."""

    start: int
    text: str


def parse_vtt(text: str) -> list[Cue]:
    """Read the cues of a WebVTT file; raise ValueError when it is not WebVTT."""
    text = text.lstrip("\ufeff")
    if not text.startswith("WEBVTT"):
        raise ValueError("not a WebVTT file (it must start with WEBVTT)")
    cues: list[Cue] = []
    for block in re.split(r"\r?\n\s*\r?\n|\r\s*\r", text):
        lines = block.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for n, line in enumerate(lines):
            timing = _TIMING_RE.match(line)
            if timing is None:
                continue
            # NOTE, STYLE and REGION blocks never hold a timing line, so they are skipped.
            words = " ".join(_TAG_RE.sub("", x) for x in lines[n + 1 :]).split()
            body = html.unescape(" ".join(words))[:MAX_CUE_CHARS]
            if body:
                cues.append(Cue(_seconds(timing["start"]), body))
            break
        if len(cues) >= MAX_CUES:
            break
    return cues


def _seconds(stamp: str) -> int:
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return int(total)


def cue_records(cues: Iterable[Cue], analyzer: Any) -> list[tuple[int, str, int]]:
    """Return cues as stored in the index: start, text, and the position of the cue's first word.

    The transcript field is the cues' text joined by newlines, and the analyzer numbers its words
    from 0 across cues, so the position of a matched word tells which cue said it (best_cue).
    """
    records = []
    position = 0
    for cue in cues:
        records.append((cue.start, cue.text, position))
        # Positions, not terms: a compound's closed word shares its last part's (analysis.py).
        position += len({t.pos for t in analyzer(cue.text, positions=True)})
    return records


def cues_from_record(stored: Any) -> tuple[Cue, ...]:
    """Return the cues stored with a document (empty when it has none)."""
    if not stored:
        return ()
    return tuple(Cue(int(record[0]), str(record[1])) for record in stored)


def best_cue(stored: Any, positions: Iterable[tuple[str, Iterable[int]]]) -> Cue | None:
    """Return the cue that says the most distinct matched words (the earliest of equals).

    `positions` gives, for each matched word, its positions in the transcript field.
    """
    if not stored:
        return None
    firsts = [int(record[2]) for record in stored]
    words_in: dict[int, set[str]] = {}
    for word, places in positions:
        for place in places:
            words_in.setdefault(bisect_right(firsts, place) - 1, set()).add(word)
    if not words_in:
        return None
    best = min(words_in, key=lambda i: (-len(words_in[i]), i))
    start, text = stored[max(best, 0)][:2]
    return Cue(int(start), str(text))
