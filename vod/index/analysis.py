"""How text becomes index terms: words, tech names, compounds and word forms (issue #12).

- Tech names keep their meaning: `C++`, `C#`, `F#`, `.NET` and `a/b` are terms of their own
  (before, `C++` was the letter c, which matched every middle initial C), `Node.js`, `NodeJS`
  and `nodejs` are one term, and the one-letter languages `R` and `C` are kept where every
  other single letter is dropped.
- A hyphenated compound (or snake_case) is indexed as its parts and as one closed word
  (`crowd-sourced` also gives `crowdsourced`), at the position of its last part, so phrases
  across it still match.
  A query asks for either (query.py), so `crowdsourced` and `crowd-sourced` find each other.
- After Snowball stemming, agent nouns meet their verbs: `formatter` and `formatting` give
  `format`, `detector` and `detection` give `detect`, `scanner` gives `scan`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import (
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

# A token: a tech name (`.NET`, `C++`, `C#`, `a/b`), else a word with inner dots (`node.js`,
# `2.7`; a dot before a capital is a missing space, as in `subsystems.We`), joined by hyphens
# into a compound.
# Letters of the scripts written without spaces between words or particles (Hangul and its
# jamo, kana, CJK ideographs): a run of them is never one token with the Latin letters or
# digits it touches, so `Python으로`, `Djangoの話` and `Arduinoで作る` have `python`, `django`
# and `arduino` in them for a search, as `Python with` has `python`.
_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# Word characters of one kind, CJK or not (possessive: a run never gives any back, and the
# pattern finds words in 0.94 of the time of plain `+` here; 1.15 of `\w+`'s without the split).
_PIECE = rf"(?:[^\W{_CJK}]++|[{_CJK}]++)"
_DOTTED = rf"{_PIECE}(?:\.(?![A-Z]){_PIECE})*"
#
# Read as: `(?<![\w.])(?i:\.net)(?!\w)|\b[A-Za-z](?:\+\+|#)(?![\w+#])|\b(?i:a/b)\b|` then the
# dotted compound (tests/test_analysis.py compares the two on generated text). Each tech name
# starts with its first character and looks behind it after, so at the start of an ordinary word
# it fails at once: a third less time per text than that form, for the index build (every field)
# and for snippets.
WORD_PATTERN = re.compile(
    r"\.(?<![\w.]\.)(?i:net)(?!\w)"
    r"|[A-Za-z](?=\+\+|#)(?<!\w[A-Za-z])(?:\+\+|#)(?![\w+#])"
    r"|[aA](?=/)(?<!\w[aA])/[bB]\b"
    rf"|{_DOTTED}(?:-{_DOTTED})*"
)
MAX_COMPOUND_PARTS = 6  # `state-of-the-art` and event slugs are one word; a longer run is not
# Single letters say nothing, except the languages R and C (`R language`, `C extensions`);
# single digits are kept for versions and numbers (`PEP 8`, `Python 3`).
ONE_LETTER_WORDS = frozenset("rc0123456789")
_JS = re.compile(r"^(\w+)\.js$", re.IGNORECASE)
_PARTS = re.compile(r"[^-_]+")  # of `crowd-sourced`, `snake_case`, `0_celery-an-asynchronous`


class CompoundFilter(Filter):  # type: ignore[misc]  # Whoosh is untyped
    """Split hyphenated compounds into their parts plus the closed word; `node.js` -> `nodejs`.

    In a query only the parts are given: query.py asks for the closed word separately, so a
    query word never requires both.
    """

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        shift = 0  # positions added by the compounds before this token
        for t in tokens:
            text = t.text
            if "-" not in text and "_" not in text:
                js = _JS.match(text) if "." in text else None
                if js:
                    t.text = js.group(1) + "js"
                if shift and t.positions:
                    t.pos += shift
                yield t
                continue
            spans = [m.span() for m in _PARTS.finditer(text)]
            if len(spans) < 2:  # `__init__`: the word without its underscores
                if spans:
                    t.text = text[spans[0][0] : spans[0][1]]
                if shift and t.positions:
                    t.pos += shift
                yield t
                continue
            parts = [text[a:b] for a, b in spans]
            parts_only = len(parts) > MAX_COMPOUND_PARTS or t.mode == "query"
            start = t.pos + shift if t.positions else 0
            first_char = t.startchar if t.chars else 0
            for n, (a, b) in enumerate(spans):
                t.text = parts[n]
                if t.positions:
                    t.pos = start + n
                if t.chars:
                    t.startchar = first_char + a
                    t.endchar = first_char + b
                yield t
            if not parts_only:
                t.text = "".join(parts)
                if t.positions:  # set again: a later filter may have renumbered the token
                    t.pos = start + len(parts) - 1
                if t.chars:
                    t.startchar = first_char
                    t.endchar = first_char + len(text)
                yield t  # at the last part's position
            shift += len(parts) - 1


class PositionStopFilter(StopFilter):  # type: ignore[misc]
    """Whoosh's StopFilter, renumbering positions without separating terms that share one.

    Two terms at one position (a compound's last part and its closed word) stay together; the
    stock filter would give the second its own position and break phrases across it.
    """

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        stoplist = self.stops
        minsize = self.min
        last_in: int | None = None
        last_out = -1
        for t in tokens:
            text = t.text
            if (len(text) >= minsize or text in ONE_LETTER_WORDS) and text not in stoplist:
                if t.positions:
                    if t.pos != last_in:
                        last_in = t.pos
                        last_out += 1
                    t.pos = last_out
                t.stopped = False
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


# Stems that end in these doubled letters lost an -er (Snowball: formatter -> formatt).
_DOUBLED = frozenset(("bb", "dd", "gg", "mm", "nn", "pp", "rr", "tt"))
# Agent nouns in -tor/-ssor that are not a verb plus -or.
_NOT_AGENTS = frozenset(("factor", "vector", "sector", "doctor", "victor", "hector", "tensor"))


def derive(stem: str) -> str:
    """Map a Snowball stem of an agent noun onto its verb: detector -> detect, scanner -> scan."""
    n = len(stem)
    if n >= 7 and stem.endswith("er") and stem[-4:-2] in _DOUBLED:
        return stem[:-3]  # scanner -> scan, wrapper -> wrap (Snowball keeps these whole)
    if n >= 5 and stem[-2:] in _DOUBLED:
        return stem[:-1]  # formatt -> format, debugg -> debug
    if n >= 6 and (stem.endswith("tor") or stem.endswith("ssor")) and stem not in _NOT_AGENTS:
        return stem[:-2]  # detector -> detect, compressor -> compress
    return stem


class DeriveFilter(Filter):  # type: ignore[misc]
    """Apply derive() to every term (after stemming), in documents and queries alike."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for t in tokens:
            t.text = derive(t.text)
            yield t


def _tokenizer() -> RegexTokenizer:
    return RegexTokenizer(WORD_PATTERN)


# English text: words folded to ASCII, lowercased, stop words dropped, stemmed (so `deploying`
# finds `deployment`). Snowball's English stemmer (Porter2): Whoosh's default Porter stems
# `deploying` to `deploi` but `deployment` to `deployment`, and `running` to `runn`.
TEXT_ANALYZER = (
    _tokenizer()
    | CompoundFilter()
    | LowercaseFilter()
    | CharsetFilter(accent_map)
    | PositionStopFilter()
    | StemFilter(lang="en")
    | DeriveFilter()
)
# Names and companies: folded and lowercased but not stemmed, so `Kim` never matches `kimmed`.
NAME_ANALYZER = _tokenizer() | CompoundFilter() | LowercaseFilter() | CharsetFilter(accent_map)
