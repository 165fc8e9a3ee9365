"""Snippets: the fragment of a hit that shows why it matched, escaped before it is marked."""

from __future__ import annotations

import heapq
import html
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import Any, Literal

from whoosh import highlight
from whoosh.analysis import CompositeAnalyzer, RegexTokenizer

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
BETWEEN = " … "  # joins the two fragments of a cut abstract
# When two fields hold as many of the searched words, the earlier one here gives the snippet:
# the title is on the card already, so the abstract says more.
_PREFERENCE = ("abstract", "title", "speakers", "recording_speakers", "transcript")
# Each stored text a snippet marks: the stored field of its word stream, its analyzer, and the
# index field whose searched words are marked in it (names are searched in `people`).
WORD_STREAMS: dict[str, tuple[str, Any, str]] = {
    "abstract": ("abstract_words", TEXT_ANALYZER, "abstract"),
    "title": ("title_words", TEXT_ANALYZER, "title"),
    "speakers": ("speakers_words", NAME_ANALYZER, "people"),
    "recording_speakers": ("recording_speakers_words", NAME_ANALYZER, "people"),
}


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


WORDS_KEPT = 200_000  # words whose analysed form is kept, per analyzer (the vocabulary is ~100k)


# A text's words as the index keeps them for its snippets (word_stream): the analysed words
# joined by this character, which no word holds (the tokenizer's words are letters, digits and
# `.-_+#/`), and the (start, end) of each as unsigned 32-bit integers.
WORD_SEPARATOR = "\x1f"
SPAN_TYPE = "I"
WordStream = tuple[str, bytes]


def word_stream(text: str, analyzer: Any = TEXT_ANALYZER) -> WordStream | None:
    """What the snippet of a text (an abstract, a title, names) needs from its analysis, worked
    out once when the index is built instead of on every hit (it was two thirds of a snippet's
    time): the analysed words and their spans. None when a word holds the separator (never,
    with today's tokenizer): the snippet then analyses the text itself."""
    found = _words(text, None, analyzer)
    if found is None:  # pragma: no cover - without terms to look for, there is always an answer
        return None
    words, spans = found
    if any(WORD_SEPARATOR in w for w in words):
        return None
    return WORD_SEPARATOR.join(words), array(SPAN_TYPE, [i for s in spans for i in s]).tobytes()


def _streamed(
    stream: Any, terms: frozenset[str]
) -> tuple[list[str], list[tuple[int, int]]] | Literal[False] | None:
    """`_words` read from a word stream: (words, spans), None when no word is searched, or False
    when `stream` is not one (an index written by another version): the text is analysed."""
    if not (isinstance(stream, tuple) and len(stream) == 2):
        return False
    joined, packed = stream
    if not (isinstance(joined, str) and isinstance(packed, bytes)):
        return False
    if not any(term in joined for term in terms):
        return None  # no searched word is even part of a word: not split into words
    words = joined.split(WORD_SEPARATOR) if joined else []
    if terms.isdisjoint(words):
        return None
    flat = array(SPAN_TYPE)
    if len(packed) % flat.itemsize:
        return False
    flat.frombytes(packed)
    if len(flat) != 2 * len(words):
        return False
    return words, list(zip(flat[::2], flat[1::2], strict=True))


def _mark(
    text: str, terms: frozenset[str], analyzer: Any, whole: bool, stream: Any = None
) -> tuple[str, frozenset[str]]:
    """Return `text` escaped and marked where `terms` occur, and which terms did.

    `stream` is the text's word stream kept in the index (word_stream), if any.
    """
    if not text or not terms:
        return "", frozenset()
    found = _streamed(stream, terms) if stream is not None else False
    if found is False:
        found = _words(text, terms, analyzer)
    if found is None:
        return "", frozenset()  # no searched word in the text: nothing to mark
    words, spans = found
    if whole:
        return _mark_whole(text, words, spans, terms)
    fragments = _context_fragments(text, words, spans, terms, PLAIN_CHARS, CONTEXT_CHARS)
    return _mark_best(text, fragments)


Fragment = tuple[int, int, list[tuple[int, int, str]]]  # start, end, matches (start, end, word)


def _mark_best(text: str, fragments: Iterator[Fragment]) -> tuple[str, frozenset[str]]:
    """The rest of whoosh.highlight.highlight() (2.7.5) with the escaping formatter of
    tests/test_index_snippets.py, on tuples.

    The two best fragments (BasicFragmentScorer: matches times a hundred times distinct words;
    ties to the later one, as Whoosh compares fragments by their start), those scoring at least
    1, in text order; each widened to the blanks around it and marked as Formatter marks (in
    order, the longer first, nested ones skipped), joined by " … ", with an ellipsis where the
    text goes on. Whoosh's Token, Fragment and formatter objects took half a snippet's time.
    """
    scored = [
        (len(matches) * (len({w for _, _, w in matches}) * 100 or 1), start, end, matches)
        for start, end, matches in fragments
    ]
    best = sorted(
        (f for f in heapq.nlargest(2, scored, key=_SCORE_THEN_START) if f[0] >= 1),
        key=_START,
    )
    if not best:
        return "", frozenset()
    parts = []
    matched: set[str] = set()
    limit = len(text)
    first_start = last_end = 0
    for n, (_, start, end, matches) in enumerate(best):
        floor = max(0, start - WIDEN_CHARS)
        while start > floor and not text[start - 1].isspace():
            start -= 1
        ceiling = min(limit, end + WIDEN_CHARS)
        while end < ceiling and not text[end].isspace():
            end += 1
        if n == 0:
            first_start = start
        last_end = end
        parts.append(_marked(text, start, end, matches, matched))
    if not matched:
        return "", frozenset()
    head = "…" if text[:first_start].strip() else ""
    tail = "…" if text[last_end:].strip() else ""
    return head + BETWEEN.join(parts) + tail, frozenset(matched)


_SCORE_THEN_START = itemgetter(0, 1)  # of a scored fragment (score, start, end, matches)
_START = itemgetter(1)


def _marked(
    text: str, start: int, end: int, matches: list[tuple[int, int, str]], matched: set[str]
) -> str:
    """`text[start:end]` escaped, with <mark> around `matches` (start, end, word), as Whoosh's
    Formatter marks them: in order, the longer first where two start together, one inside an
    earlier one skipped. The words marked are added to `matched`."""
    escape = html.escape
    out = []
    index = start
    for m_start, m_end, word in sorted(matches, key=_start_then_longer):
        if m_start < index:
            continue
        if m_start > index:
            out.append(escape(text[index:m_start], quote=True))
        out.append(f"<mark>{escape(text[m_start:m_end], quote=True)}</mark>")
        matched.add(word)
        index = m_end
    out.append(escape(text[index:end], quote=True))
    return "".join(out)


def _start_then_longer(match: tuple[int, int, str]) -> tuple[int, int]:
    return match[0], match[0] - match[1]


def _mark_whole(
    text: str, words: list[str], spans: list[tuple[int, int]], terms: frozenset[str]
) -> tuple[str, frozenset[str]]:
    """A title or a list of names, marked whole: what Whoosh's WholeFragmenter, top_fragments
    and the tests' escaping formatter make of it (one fragment, the whole text), without their
    objects.

    Whoosh keeps the matches before the first word past its character limit, marks them in
    order (the longer first where two start together; one inside another is skipped) and
    escapes the text between; a text without a match is not shown. A fifth of the time.
    """
    limit = highlight.DEFAULT_CHARLIMIT
    matches = []
    for i, word in enumerate(words):
        start, end = spans[i]
        if limit and end > limit:
            break
        if word in terms:
            matches.append((start, end, word))
    if not matches:
        return "", frozenset()
    matched: set[str] = set()
    return _marked(text, 0, len(text), matches, matched), frozenset(matched)


_FIRST = itemgetter(0)
_PARTS = re.compile(r"[^-_]+")
_SPAN = re.Match.span  # called from C by map(): a third of a listcomp's time a token
_GROUP = re.Match.group


def _words(
    text: str, terms: frozenset[str] | None, analyzer: Any
) -> tuple[list[str], list[tuple[int, int]]] | None:
    """The analysed text and the span of each token Whoosh's highlighter would make of `text`,
    or None when no token is a searched word (`terms` None: every word is).

    Whoosh analyses the whole text through the analyzer's chain for each hit and field (half of
    a search's time on pyvideo: ten abstracts of 150 words, each word through five generators
    and a stemmer). A word's analysed form does not depend on the words around it (the chain
    maps one token to one token), so each word is analysed once per process and looked up
    after, in a dictionary read from C (`map(dict.get, ...)`: a tenth of a Python call a word);
    a text without a searched word is ruled out by its words alone.
    """
    _, pattern, normal = _analysis(analyzer)
    if pattern is None:
        found = list(analyzer(text, chars=True, mode="query", removestops=False))
        words = [t.text for t in found]
        if terms is not None and terms.isdisjoint(words):
            return None
        return words, [(t.startchar, t.endchar) for t in found]
    found_tokens = list(pattern.finditer(text))  # one pass for the words and their spans
    tokens = list(map(_GROUP, found_tokens))
    words = normal.many(tokens)
    # A compound (`Müller-Test`, `crowd-sourced`) is several terms (analysis.py): its parts are
    # marked, in its place. `__init__` or `_` is one token, as the analyzer makes it.
    parts: dict[int, list[tuple[str, int, int]]] = {}
    if "-" in text or "_" in text:
        for k, token in enumerate(tokens):
            if "-" in token or "_" in token:
                pieces = list(_PARTS.finditer(token))
                if len(pieces) >= 2:
                    parts[k] = [(normal(m.group(0)), m.start(), m.end()) for m in pieces]
    if (
        terms is not None
        and terms.isdisjoint(words)
        and all(terms.isdisjoint(w for w, _, _ in found) for found in parts.values())
    ):
        return None
    spans = list(map(_SPAN, found_tokens))
    if not parts:
        return words, spans
    out_words: list[str] = []
    out_spans: list[tuple[int, int]] = []
    done = 0
    for k, found in parts.items():  # in text order: filled in that order
        out_words += words[done:k]
        out_spans += spans[done:k]
        start = spans[k][0]
        for word, a, b in found:
            out_words.append(word)
            out_spans.append((start + a, start + b))
        done = k + 1
    out_words += words[done:]
    out_spans += spans[done:]
    return out_words, out_spans


def _context_fragments(
    text: str,
    words: list[str],
    spans: list[tuple[int, int]],
    terms: frozenset[str],
    maxchars: int,
    surround: int,
) -> Iterator[Fragment]:
    """Whoosh's ContextFragmenter.fragment_tokens (2.7.5), on spans, skipping to each match.

    Outside a fragment, a word that is not searched only moves the start of the next fragment
    (the earliest token within `surround` characters before it), which is found by bisection;
    inside one, tokens are stepped as Whoosh steps them. The same fragments, in a fraction of
    the time (tests/test_index_snippets.py compares them on generated texts).
    """
    charlimit = highlight.DEFAULT_CHARLIMIT
    starts = list(map(_FIRST, spans))
    count = len(spans)
    if charlimit and spans and spans[-1][1] > charlimit:
        # Whoosh stops at the first token that ends past the limit (the last one ends first
        # past it only in a text of over 32 kB: the others are not walked)
        count = next((i for i, (_, end) in enumerate(spans) if end > charlimit), count)
    matches = list(compress(range(count), map(terms.__contains__, words)))
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
        kept: list[tuple[int, int, str]] = []
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
            kept.append((startchar, endchar, words[j]))
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
                kept.append((startchar, endchar, words[i]))
            currentlen += tlength
            countdown -= tlength
            i += 1
        if countdown <= 0:
            yield (first if first is not None else (kept[0][0] if kept else 0)), endchar, kept
            if countdown == 0 and i < count and words[i] not in terms:
                # Whoosh keeps a countdown of exactly 0 as "inside": the next word, if not
                # searched, closes an empty fragment (scored 0, never shown) and is not
                # counted as context before the next match.
                i += 1
            reset = i
        elif kept:  # the text ended inside the fragment
            if count < len(spans):  # ...at the character limit: Whoosh ends it at that token
                endchar = spans[count][1]
            yield (first if first is not None else kept[0][0]), endchar, kept
            return
        following += 1


class _Normal:
    """One analyzer's analysis of single words (stop words kept, as the highlighter keeps them),
    remembered: up to WORDS_KEPT words, then forgotten all at once and learnt again."""

    def __init__(self, analyzer: Any) -> None:
        self._analyzer = analyzer
        self._known: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        known = self._known.get(word)
        if known is None:
            found = [t.text for t in self._analyzer(word, mode="query", removestops=False)]
            known = found[0] if len(found) == 1 else "\x00"  # not one token: never searched
            if len(self._known) >= WORDS_KEPT:
                self._known = {}
            self._known[word] = known
        return known

    def many(self, words: list[str]) -> list[str]:
        """The analysed form of each of `words`; the known ones are looked up from C."""
        out: list[str | None] = list(map(self._known.get, words))
        if None in out:
            out = [w if w is not None else self(words[i]) for i, w in enumerate(out)]
        return out  # type: ignore[return-value]  # no None is left


# Per analyzer (by identity: Whoosh's analyzers compare equal but cannot be hashed): its word
# pattern's search, when it starts with a RegexTokenizer, and its remembered one-word analysis.
_ANALYSIS: dict[int, tuple[Any, Any, _Normal]] = {}


def _analysis(analyzer: Any) -> tuple[Any, Any, _Normal]:
    """The analyzer, its tokenizer's compiled pattern (None if not a RegexTokenizer), and its
    one-word analysis, remembered."""
    known = _ANALYSIS.get(id(analyzer))
    if known is not None and known[0] is analyzer:
        return known
    items = analyzer.items if isinstance(analyzer, CompositeAnalyzer) else [analyzer]
    first: Any = items[0] if items else None
    finder = None
    # findall() gives the tokens' texts only when the pattern has no group of its own.
    if type(first) is RegexTokenizer and not first.gaps and not first.expression.groups:
        finder = first.expression
    made = (analyzer, finder, _Normal(analyzer))
    _ANALYSIS[id(analyzer)] = made  # the analyzer is kept too, so its id is not reused
    return made


def make_snippet(
    stored: Mapping[str, Any], terms: Mapping[str, frozenset[str]], cue: Cue | None
) -> Snippet:
    """Choose the field that shows most of the searched words, and mark them there.

    `terms` maps index fields to the words the query searched in them; `cue` is the transcript
    cue that said most of them, if the transcript matched.
    """
    # The abstract is cut around its matches; a title or a list of names is shown whole.
    found: dict[str, tuple[str, frozenset[str]]] = {
        name: _mark(
            stored.get(name) or "",
            terms.get(searched, frozenset()),
            analyzer,
            whole=name != "abstract",
            stream=stored.get(stream_field),
        )
        for name, (stream_field, analyzer, searched) in WORD_STREAMS.items()
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
