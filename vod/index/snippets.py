"""Snippets: the fragment of a hit that shows why it matched, escaped before it is marked."""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from whoosh import highlight
from whoosh.analysis import CompositeAnalyzer, RegexTokenizer, Token

from vod.index.analysis import NAME_ANALYZER, TEXT_ANALYZER
from vod.index.transcript import Cue

SNIPPET_LABELS = {
    "abstract": "abstract",
    "title": "title",
    "speakers": "presenters (live)",
    "recording_speakers": "presenters (in the recording)",
    "transcript": "transcript",
}
PLAIN_CHARS = 240  # the start of the abstract shown when no shown field holds a matched word
CONTEXT_CHARS = 70  # a fragment of the abstract goes on this far after its last matched word
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


WORDS_KEPT = 200_000  # words whose analysed form is kept, per analyzer (the vocabulary is ~100k)


def _mark(
    text: str, terms: frozenset[str], analyzer: Any, whole: bool
) -> tuple[str, frozenset[str]]:
    """Return `text` escaped and marked where `terms` occur, and which terms did."""
    if not text or not terms:
        return "", frozenset()
    found = _words(text, terms, analyzer)
    if found is None:
        return "", frozenset()  # no searched word in the text: nothing to mark
    words, spans = found
    formatter = EscapingFormatter()
    if whole:
        matched = [_token(w, *spans[i]) for i, w in enumerate(words) if w in terms]
        fragments: Any = highlight.WholeFragmenter().fragment_tokens(text, matched)
    else:
        fragments = _context_fragments(text, words, spans, terms, PLAIN_CHARS, CONTEXT_CHARS)
    # The rest of whoosh.highlight.highlight(), with the words analysed already.
    best = highlight.top_fragments(
        fragments, 2, highlight.BasicFragmentScorer(), highlight.FIRST, minscore=1
    )
    marked = formatter(text, best)
    return (marked, frozenset(formatter.matched)) if formatter.matched else ("", frozenset())


_PARTS = re.compile(r"[^-_]+")


def _words(
    text: str, terms: frozenset[str], analyzer: Any
) -> tuple[list[str], list[tuple[int, int]]] | None:
    """The analysed text and the span of each token Whoosh's highlighter would make of `text`,
    or None when no token is a searched word.

    Whoosh analyses the whole text through the analyzer's chain for each hit and field (half of
    a search's time on pyvideo: ten abstracts of 150 words, each word through five generators
    and a stemmer). A word's analysed form does not depend on the words around it (the chain
    maps one token to one token), so each word is analysed once per process and looked up
    after; a text without a searched word is ruled out by its words alone.
    """
    _, pattern, normal = _analysis(analyzer)
    if pattern is None:
        found = list(analyzer(text, chars=True, mode="query", removestops=False))
        words = [t.text for t in found]
        if terms.isdisjoint(words):
            return None
        return words, [(t.startchar, t.endchar) for t in found]
    tokens = pattern.findall(text)
    if not any("-" in t or "_" in t for t in tokens):
        words = list(map(normal, tokens))
        if terms.isdisjoint(words):
            return None
        return words, [m.span() for m in pattern.finditer(text)]
    # A compound (`Müller-Test`, `crowd-sourced`) is several terms (analysis.py): mark its parts.
    words, spans = [], []
    for match in pattern.finditer(text):
        token, start = match.group(0), match.start()
        if "-" not in token and "_" not in token:
            words.append(normal(token))
            spans.append(match.span())
            continue
        parts = list(_PARTS.finditer(token))
        if len(parts) < 2:  # `__init__`, `_`: one token, as the analyzer makes it
            words.append(normal(token))
            spans.append(match.span())
            continue
        for part in parts:
            words.append(normal(part.group(0)))
            spans.append((start + part.start(), start + part.end()))
    if terms.isdisjoint(words):
        return None
    return words, spans


def _context_fragments(
    text: str,
    words: list[str],
    spans: list[tuple[int, int]],
    terms: frozenset[str],
    maxchars: int,
    surround: int,
) -> Iterator[Any]:
    """Whoosh's ContextFragmenter.fragment_tokens (2.7.5), on spans, skipping to each match.

    Outside a fragment, a word that is not searched only moves the start of the next fragment
    (the earliest token within `surround` characters before it), which is found by bisection;
    inside one, tokens are stepped as Whoosh steps them. The same fragments, in a fraction of
    the time (tests/test_index_snippets.py compares them on generated texts).
    """
    charlimit = highlight.DEFAULT_CHARLIMIT
    starts = [start for start, _ in spans]
    count = len(spans)
    if charlimit:  # Whoosh stops at the first token that ends past the limit
        count = next((i for i, (_, end) in enumerate(spans) if end > charlimit), count)
    matches = [i for i in range(count) if words[i] in terms]
    reset = 0  # tokens before this index belong to an earlier fragment
    following = 0  # index into `matches`
    i = 0
    while following < len(matches):
        j = matches[following]
        if j < i:
            following += 1
            continue
        # Outside a fragment: skip to the match; `first` is the earliest start within
        # `surround` characters of the end of the token before it (since the last fragment).
        startchar, endchar = spans[j]
        tlength = endchar - startchar
        countdown = -1
        first: int | None = None
        kept: list[Token] = []
        currentlen = 0
        if tlength > maxchars:
            countdown = 0  # a token longer than a fragment ends it at once (as Whoosh does)
        else:
            countdown = surround
            k = bisect_left(starts, spans[j - 1][1] - surround, reset, j) if j > reset else j
            if k < j:
                first = starts[k]
            else:
                first = startchar
                countdown += surround
            kept.append(_token(words[j], startchar, endchar))
        currentlen += tlength
        countdown -= tlength
        i = j + 1
        # Inside the fragment: step token by token until its countdown runs out.
        while countdown > 0 and i < count:
            startchar, endchar = spans[i]
            tlength = endchar - startchar
            if currentlen + tlength > maxchars:
                countdown = 0
            elif words[i] in terms:
                countdown = surround
                kept.append(_token(words[i], startchar, endchar))
            currentlen += tlength
            countdown -= tlength
            i += 1
        if countdown <= 0:
            yield highlight.mkfrag(text, kept, startchar=first, endchar=endchar)
            if countdown == 0 and i < count and words[i] not in terms:
                # Whoosh keeps a countdown of exactly 0 as "inside": the next word, if not
                # searched, closes an empty fragment (scored 0, never shown) and is not
                # counted as context before the next match.
                i += 1
            reset = i
        elif kept:  # the text ended inside the fragment
            if count < len(spans):  # ...at the character limit: Whoosh ends it at that token
                endchar = spans[count][1]
            yield highlight.mkfrag(text, kept, startchar=first, endchar=endchar)
            return
        following += 1


def _token(text: str, start: int, end: int) -> Token:
    """A matched token, as Whoosh's fragmenters keep them."""
    token = Token(text=text, startchar=start, endchar=end)
    token.matched = True
    return token


# Per analyzer (by identity: Whoosh's analyzers compare equal but cannot be hashed): its word
# pattern's search, when it starts with a RegexTokenizer, and its memoised one-word analysis.
_ANALYSIS: dict[int, tuple[Any, Any, Callable[[str], str]]] = {}


def _analysis(analyzer: Any) -> tuple[Any, Any, Callable[[str], str]]:
    """The analyzer, its tokenizer's compiled pattern (None if not a RegexTokenizer), and its
    one-word analysis (stop words kept, as the highlighter keeps them), memoised."""
    known = _ANALYSIS.get(id(analyzer))
    if known is not None and known[0] is analyzer:
        return known
    items = analyzer.items if isinstance(analyzer, CompositeAnalyzer) else [analyzer]
    first: Any = items[0] if items else None
    finder = None
    # findall() gives the tokens' texts only when the pattern has no group of its own.
    if type(first) is RegexTokenizer and not first.gaps and not first.expression.groups:
        finder = first.expression

    @lru_cache(maxsize=WORDS_KEPT)
    def normal(word: str) -> str:
        found = [t.text for t in analyzer(word, mode="query", removestops=False)]
        return found[0] if len(found) == 1 else "\x00"  # not one token: never a searched word

    made = (analyzer, finder, normal)
    _ANALYSIS[id(analyzer)] = made  # the analyzer is kept too, so its id is not reused
    return made


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
