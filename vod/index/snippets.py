"""Snippets: the fragment of a hit that shows why it matched, escaped before it is marked."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from whoosh import highlight

from vod.index.schema import NAME_ANALYZER, TEXT_ANALYZER
from vod.index.transcript import Cue

SNIPPET_LABELS = {
    "abstract": "abstract",
    "title": "title",
    "speakers": "presenters (live)",
    "recording_speakers": "presenters (in the recording)",
    "transcript": "transcript",
}
PLAIN_CHARS = 240  # the start of the abstract shown when no shown field holds a matched word
WIDEN_CHARS = 30  # how far a fragment may grow to reach the blank around it
# When two fields hold as many of the searched words, the earlier one here gives the snippet:
# the title is on the card already, so the abstract says more.
_PREFERENCE = ("abstract", "title", "speakers", "recording_speakers", "transcript")


@dataclass(frozen=True)
class SaidAt:
    """Where a hit's words were said in the recording: a cue start and its marked text."""

    start: int  # seconds into the recording
    snippet: str  # HTML: escaped cue text with <mark> around matched words


@dataclass(frozen=True)
class Snippet:
    html: str  # escaped text with <mark> around matched words
    matched_in: str  # a SNIPPET_LABELS value, or "" for the plain start of the abstract
    via_recording: bool  # a name matched only the recording's presenters
    moment: SaidAt | None
    title: str = ""  # the whole title, escaped, with <mark> around matched words; "" if none


class EscapingFormatter(highlight.Formatter):  # type: ignore[misc]
    """Escape every character of the text (quotes included), then add <mark> around hits.

    Whoosh ends a fragment at its first and last word, which drops a quote, bracket or full stop
    around them (`Escaping "Untrusted" <Text>` lost its final `>`); fragments are widened to the
    blanks around them, and a fragment cut from a longer text says so with an ellipsis.
    """

    between = " … "

    def __init__(self) -> None:
        self.matched: set[str] = set()

    def _text(self, text: str) -> str:
        return html.escape(text, quote=True)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        self.matched.add(token.text)
        marked = html.escape(highlight.get_text(text, token, replace), quote=True)
        return f"<mark>{marked}</mark>"

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        text = fragment.text
        start, end = fragment.startchar, fragment.endchar
        floor = max(0, start - WIDEN_CHARS)
        while start > floor and not text[start - 1].isspace():
            start -= 1
        ceiling = min(len(text), end + WIDEN_CHARS)
        while end < ceiling and not text[end].isspace():
            end += 1
        fragment.startchar, fragment.endchar = start, end
        return str(super().format_fragment(fragment, replace=replace))

    def format(self, fragments: list[Any], replace: bool = False) -> str:
        if not fragments:
            return ""
        body = self.between.join(self.format_fragment(f, replace=replace) for f in fragments)
        text = fragments[0].text
        head = "…" if text[: fragments[0].startchar].strip() else ""
        tail = "…" if text[fragments[-1].endchar :].strip() else ""
        return head + body + tail


def _mark(
    text: str, terms: frozenset[str], analyzer: Any, whole: bool
) -> tuple[str, frozenset[str]]:
    """Return `text` escaped and marked where `terms` occur, and which terms did."""
    if not text or not terms:
        return "", frozenset()
    formatter = EscapingFormatter()
    fragmenter = (
        highlight.WholeFragmenter()
        if whole
        else highlight.ContextFragmenter(maxchars=PLAIN_CHARS, surround=70)
    )
    marked = highlight.highlight(text, terms, analyzer, fragmenter, formatter, top=2)
    return (marked, frozenset(formatter.matched)) if formatter.matched else ("", frozenset())


def make_snippet(
    stored: Mapping[str, Any], terms: Mapping[str, frozenset[str]], cue: Cue | None
) -> Snippet:
    """Choose the field that shows most of the searched words, and mark them there.

    `terms` maps index fields to the words the query searched in them; `cue` is the transcript
    cue that said most of them, if the transcript matched.
    """
    people = terms.get("people", frozenset())
    found: dict[str, tuple[str, frozenset[str]]] = {
        "abstract": _mark(
            stored.get("abstract") or "",
            terms.get("abstract", frozenset()),
            TEXT_ANALYZER,
            whole=False,
        ),
        "title": _mark(
            stored.get("title") or "", terms.get("title", frozenset()), TEXT_ANALYZER, whole=True
        ),
        "speakers": _mark(stored.get("speakers") or "", people, NAME_ANALYZER, whole=True),
        "recording_speakers": _mark(
            stored.get("recording_speakers") or "", people, NAME_ANALYZER, whole=True
        ),
    }
    moment = None
    if cue is not None:
        marked = _mark(cue.text, terms.get("transcript", frozenset()), TEXT_ANALYZER, whole=True)
        found["transcript"] = marked
        moment = SaidAt(cue.start, marked[0] or html.escape(cue.text, quote=True))
    via_recording = bool(found["recording_speakers"][1]) and not found["speakers"][1]
    if via_recording is False and found["speakers"][1]:
        found["recording_speakers"] = ("", frozenset())  # one list of names is enough
    ranked = sorted(
        (name for name in _PREFERENCE if name in found and found[name][1]),
        key=lambda name: (-len(found[name][1]), _PREFERENCE.index(name)),
    )
    if ranked:
        name = ranked[0]
        return Snippet(
            found[name][0], SNIPPET_LABELS[name], via_recording, moment, found["title"][0]
        )
    abstract = stored.get("abstract") or ""
    plain = abstract[:PLAIN_CHARS] + ("…" if len(abstract) > PLAIN_CHARS else "")
    return Snippet(html.escape(plain, quote=True), "", via_recording, moment, found["title"][0])
