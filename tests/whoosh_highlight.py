"""Whoosh's own highlighting with vod's escaping formatter: what snippets looked like before
vod/index/snippets.py marked them without Whoosh's objects, and what they must still equal."""

from __future__ import annotations

import html
from typing import Any

from whoosh import highlight

from vod.index.snippets import BETWEEN, CONTEXT_CHARS, PLAIN_CHARS, WIDEN_CHARS


class EscapingFormatter(highlight.Formatter):  # type: ignore[misc]
    """Escape every character of the text (quotes included), then add <mark> around hits.

    What snippets are: snippets._mark_whole and _mark_best write what highlight() writes with
    this formatter, without its objects; tests/test_index_snippets.py compares the two.
    Whoosh ends a fragment at its first and last word, which drops a quote, bracket or full stop
    around them (`Escaping "Untrusted" <Text>` lost its final `>`); fragments are widened to the
    blanks around them, and a fragment cut from a longer text says so with an ellipsis.
    """

    between = BETWEEN

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


def whooshs(
    text: str, terms: frozenset[str], analyzer: Any, whole: bool
) -> tuple[str, frozenset[str]]:
    """What _mark returned when it called whoosh.highlight.highlight() itself."""
    if not text or not terms:
        return "", frozenset()
    formatter = EscapingFormatter()
    fragmenter = (
        highlight.WholeFragmenter()
        if whole
        else highlight.ContextFragmenter(maxchars=PLAIN_CHARS, surround=CONTEXT_CHARS)
    )
    marked = highlight.highlight(text, terms, analyzer, fragmenter, formatter, top=2)
    return (marked, frozenset(formatter.matched)) if formatter.matched else ("", frozenset())
