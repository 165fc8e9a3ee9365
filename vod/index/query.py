"""Turn what a person typed into a bounded Whoosh query, or a friendly QueryError.

Whoosh's parser rarely raises: `(`, `AND` or a lone `"` parse to an empty query, `title:(`
searches the word "title", and any indexed field can be named. A 100 kB token takes most of a
minute to parse and 20 `*a*` wildcards take 30 s, and Whoosh's time limits stop neither. So the
text is bounded and cleaned before the parser sees it, only public fields may be named, and
wildcards are rewritten into a small, flat set of terms.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from whoosh import query as wq
from whoosh.qparser import (
    AndGroup,
    EveryPlugin,
    FieldAliasPlugin,
    MultifieldParser,
    OrGroup,
    PlusMinusPlugin,
    RangePlugin,
)
from whoosh.reading import TermNotFound

from vod.errors import QueryError
from vod.index.analysis import MAX_COMPOUND_PARTS, NAME_ANALYZER
from vod.index.guards import mark_bounded
from vod.index.schema import FIELD_BOOSTS, QUERY_FIELDS
from vod.index.spelling import Speller
from vod.index.synonyms import longest_key, synonyms
from vod.lru import LruCache

MAX_QUERY_CHARS = 500  # longer input is refused with a message, not cut silently
MAX_TERMS = 32  # words, phrases and operators in one query
MAX_TOKEN_CHARS = 64  # no real word is longer; longer tokens are cut
MAX_NESTING = 4  # parentheses deeper than this are dropped
MIN_PREFIX = 3  # `ab*` would expand to half the vocabulary
PREFIX_EXPANSION = 24  # a prefix searches its most frequent completions only, per field...
# ...fewer in the fields that say less, and shared between the prefixes of one query, so that
# `pro* dat* web*` searches about as many terms as `pro*` (the notes: the union is the cost).
PREFIX_FIELD_SHARE = {"title": 1.0, "abstract": 1.0, "people": 0.5, "transcript": 0.5}
PREFIX_FIELD_DEFAULT = 0.25
MAX_PREFIXES = 3  # prefixes after the third are searched as the plain word
ARRAY_UNION_MIN = 2  # an OR of this many terms is read by Whoosh's array matcher
# A plain query of a few words also scores its exact phrase in the title and the abstract, so
# that `type hints` ranks "Type hints in practice" above a talk that says "type" and "hints".
PHRASE_BOOSTS = {"title": 2.0, "abstract": 1.0}
PHRASE_WORDS = (2, 8)  # fewest and most words for the phrase boost
TITLE_WORDS_BOOST = 1.0  # a title with every word of a plain query, in any order (#12)
_PLAIN_TOKEN_RE = re.compile(r"^[^\W_][\w.'’]*(?:-[\w.'’]+)*$")

_FIELD_RE = re.compile(r"(?<![\w\"])([A-Za-z_]+):")
_TOKEN_RE = re.compile(r"[^\s()\"]+")
# Whoosh's operator words; alone (or only with each other) they are not a search.
_OPERATOR_WORDS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE"}


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the cleaned text that was parsed
    query: wq.Query
    schema: Any = field(repr=False, compare=False)
    phrase: wq.Query | None = None  # the exact phrase of a plain query, to score higher

    @cached_property
    def any_terms(self) -> wq.Query:
        """The same words joined by OR, for the fallback (parsed only when it is needed)."""
        return _make(self.text, self.schema, ANY_WORDS)

    def ranked(self, query: wq.Query) -> wq.Query:
        """Return `query` with the phrase as an optional clause: it adds to a match's score."""
        return query if self.phrase is None else wq.AndMaybe(query, self.phrase)


def clean_query(raw: str) -> str:
    """Bound and normalise query text; raise QueryError for text that cannot be a query."""
    text = unicodedata.normalize("NFC", raw)
    # Control characters, lone surrogates and the like carry no meaning in a search box.
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") else c for c in text
    ).strip()
    if not text:
        raise QueryError("Type a word or two to search for.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"That search is {len(text):,} characters long; please keep it under "
            f"{MAX_QUERY_CHARS} characters."
        )
    text = _TOKEN_RE.sub(lambda m: m.group(0)[:MAX_TOKEN_CHARS], text)
    # Fields nobody may search (`slug:`, `title2:`) become plain words.
    text = _FIELD_RE.sub(
        lambda m: m.group(0) if m.group(1).lower() in QUERY_FIELDS else m.group(1) + " ", text
    )
    text = _FIELD_RE.sub(lambda m: m.group(1).lower() + ":", text)
    if text.count('"') % 2:
        text = text.replace('"', " ")  # an unbalanced quote: search the words
    text = _balance_parentheses(text)
    if len(_TOKEN_RE.findall(text)) > MAX_TERMS:
        raise QueryError(f"That search has too many words; please use at most {MAX_TERMS}.")
    if not re.search(r"\w", text):
        raise QueryError("Type a word or two to search for: punctuation alone finds nothing.")
    if all(token in _OPERATOR_WORDS for token in _TOKEN_RE.findall(text)):
        raise QueryError("That search has only operators or punctuation; type a word to find.")
    return text


def _balance_parentheses(text: str) -> str:
    depth, out, too_deep = 0, [], False
    for c in text:
        if c == "(":
            depth += 1
            too_deep |= depth > MAX_NESTING
        elif c == ")":
            if depth == 0:
                out.append(" ")  # dropped, but still ends the word before it
                continue
            depth -= 1
        out.append(c)
    text = "".join(out) + ")" * depth
    return text.replace("(", " ").replace(")", " ") if too_deep else text


def _parser(group: Any) -> MultifieldParser:
    parser = MultifieldParser(
        list(FIELD_BOOSTS), schema=None, fieldboosts=FIELD_BOOSTS, group=group
    )
    # Ranges and `*:*` could touch every term or document; fields are mapped below.
    parser.remove_plugin_class(RangePlugin)
    parser.remove_plugin_class(EveryPlugin)
    # `+word` and `-word` only at the start of a word: Whoosh's default also splits
    # `Müller-Test` or `up-leveled` into "Müller AND NOT Test".
    parser.add_plugin(PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
    aliases: dict[str, list[str]] = {}
    for public, fieldname in QUERY_FIELDS.items():
        if public != fieldname:
            aliases.setdefault(fieldname, []).append(public)
    parser.add_plugin(FieldAliasPlugin(aliases))
    return parser


def parse_query(text: str, schema: Any) -> ParsedQuery:
    """Parse cleaned text against `schema`; raise QueryError when nothing searchable is left."""
    searched = with_alternatives(_EVENT_SLUG_RE.sub(_event_slug, text))
    parsed = _make(searched, schema, ALL_WORDS)
    if not _has_leaf(parsed):
        raise QueryError("That search has only operators or punctuation; type a word to find.")
    return ParsedQuery(searched, parsed, schema, _phrase_boost(text, schema))


# `event:pycon-us-2019`: a slug, which must match exactly, not as the words pycon and 2019 (the
# event field drops "us" as a stop word). The index holds each slug as one closed word too.
_EVENT_SLUG_RE = re.compile(r"(?<![\w\"])event:([\w.]+(?:-[\w.]+)+)(?![\w-])")


def _event_slug(match: re.Match[str]) -> str:
    parts = match.group(1).split("-")
    if len(parts) > MAX_COMPOUND_PARTS:
        return match.group(0)
    return "event:" + "".join(parts).lower()


_SEGMENT_RE = re.compile(r'"[^"]*"|\S+')
# A word the rewrites below may touch: no field, quote, wildcard, group, boost or operator sign.
_BARE_RE = re.compile(r"^[^\W_][\w.'’/+#-]*$")
MAX_ALTERNATIVES = 4  # rewrites in one query; the rest of its words are searched as typed
SYNONYM_BOOST = 0.5  # an acronym's expansion (or the other way) weighs half the typed words
# (an acronym for several typed words, half of all of them: _alternative_boost)


def with_alternatives(text: str) -> str:
    """Add what else the words may be written as, in the query syntax, at a lower weight.

    An acronym of the table (synonyms.txt) also searches its expansion and the other way
    round: `ml ops` -> `(ml OR "machine learning"^0.5) ops`. A hyphenated word also searches
    the closed word (`crowd-sourced` -> `(crowd-sourced OR crowdsourced)`), which the index
    holds for every hyphenated word it read (analysis.py).
    """
    table = synonyms()
    longest = longest_key()
    segments = _SEGMENT_RE.findall(text)
    out: list[str] = []
    rewrites = 0
    i = 0
    while i < len(segments):
        segment = segments[i]
        if rewrites >= MAX_ALTERNATIVES or not _is_bare(segment):
            out.append(segment)
            i += 1
            continue
        for size in range(min(longest, len(segments) - i), 0, -1):
            words = segments[i : i + size]
            if not all(_is_bare(w) for w in words):
                continue
            key = " ".join(w.lower() for w in words)
            if key in table:
                typed = _closed(words[0]) if size == 1 else "(" + " ".join(words) + ")"
                others = " OR ".join(
                    (f'"{alt}"' if " " in alt else alt) + f"^{_alternative_boost(size, alt)}"
                    for alt in table[key]
                )
                out.append(f"({typed} OR {others})")
                rewrites += 1
                i += size
                break
        else:
            closed = _closed(segment)
            nxt = segments[i + 1] if i + 1 < len(segments) else ""
            if closed == segment and nxt.isdigit() and len(nxt) <= 3 and segment.isalpha():
                # `pep 8` is also written `pep8`
                out.append(f"(({segment} {nxt}) OR {segment}{nxt})")
                rewrites += 1
                i += 2
                continue
            rewrites += closed != segment
            out.append(f"({closed})" if closed != segment else segment)
            i += 1
    return " ".join(out)


def _alternative_boost(typed_words: int, alternative: str) -> float:
    """The weight of an acronym table's alternative for `typed_words` words typed.

    Words typed score as the sum of their words, so an acronym standing in for three of them
    (`optical character recognition` -> `ocr`) weighs as much as three words at
    SYNONYM_BOOST; otherwise the talks titled with the acronym fall below every talk whose
    abstract has the three words."""
    return round(SYNONYM_BOOST * max(1.0, typed_words / len(alternative.split())), 3)


_WORD_NUMBER_RE = re.compile(r"^([^\W\d_]{2,})(\d{1,3})$")


def _closed(word: str) -> str:
    """`word OR its other form`: a compound closed (`crowd-sourced`, `snake_case`), a word and
    its number apart (`pep8` -> `pep 8`); else the word."""
    parts = [part for part in re.split(r"[-_]", word) if part]
    if 1 < len(parts) <= MAX_COMPOUND_PARTS:
        return f"{word} OR {''.join(parts)}"
    apart = _WORD_NUMBER_RE.match(word)
    if apart:
        return f"{word} OR ({apart.group(1)} {apart.group(2)})"
    return word


def _is_bare(segment: str) -> bool:
    return bool(_BARE_RE.match(segment)) and segment not in _OPERATOR_WORDS


def _phrase_boost(text: str, schema: Any) -> wq.Query | None:
    """Return phrase queries for the words of a plain query (no syntax), or None.

    They add to the score of the best matches: the exact phrase in the title or the abstract,
    and every word in the title.
    """
    tokens = text.split()
    if not all(_PLAIN_TOKEN_RE.match(t) and t not in _OPERATOR_WORDS for t in tokens):
        return None
    phrases = []
    for fieldname, boost in PHRASE_BOOSTS.items():
        if fieldname not in schema or not schema[fieldname].format.supports("positions"):
            continue
        words = list(schema[fieldname].process_text(text, mode="query"))
        if PHRASE_WORDS[0] <= len(words) <= PHRASE_WORDS[1]:
            phrases.append(wq.Phrase(fieldname, words, boost=boost))
            if fieldname == "title":
                # Every word in the title, in any order: the title half remembered
                # ("steering council address" for "Steering Council Community Address").
                title = [wq.Term(fieldname, w) for w in dict.fromkeys(words)]
                phrases.append(wq.And(title, boost=TITLE_WORDS_BOOST))
    if not phrases:
        return None
    return phrases[0] if len(phrases) == 1 else wq.Or(phrases)


def _has_leaf(q: wq.Query) -> bool:
    if q is wq.NullQuery:
        return False
    if q.is_leaf():
        return True
    return any(_has_leaf(sub) for sub in q.children())


ALL_WORDS, ANY_WORDS = "all", "any"  # how a query's words are joined: AND, or a scaled OR
_GROUPS = {ALL_WORDS: AndGroup, ANY_WORDS: OrGroup.factory(0.9)}
_PARSERS = threading.local()  # a thread's parsers, by group (a parser is built in ~0.2 ms)


def _make(text: str, schema: Any, words: str) -> wq.Query:
    parsers: dict[str, MultifieldParser] = _PARSERS.__dict__.setdefault("by_group", {})
    parser = parsers.get(words)
    if parser is None:
        parser = parsers[words] = _parser(_GROUPS[words])
    parser.schema = schema
    try:
        q = _parse_words(parser, text, words)
    except Exception:
        # Whoosh's parser fails its own asserts on some operator runs (`NOT NOT x`,
        # `x ANDNOT ANDNOT y`): search those operators as the plain words they were typed as.
        plain = re.sub(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|REQUIRE)\b", lambda m: m[0].lower(), text)
        try:
            q = parser.parse(plain)
        except Exception:
            raise QueryError(
                "That search could not be understood; please try plain words."
            ) from None
    stopping = _stopping_fields(schema)
    if _plain_terms(q):
        # The parses of plain words, joined (most searches): each part normalized already
        # (_parse_words), nothing to bound or to read as a phrase. The stop words are dropped;
        # a whole normalize() walked and hashed every term again (a third of the parsing).
        q = _optional_stop_words(q, schema, stopping)
        if isinstance(q, wq.And) and len(q.subqueries) == 1:
            q = q.normalize()  # one part left: itself
        return mark_bounded(q)
    q = _optional_stop_words(q, schema, stopping)
    # One normalize() at the end: Whoosh's is slow on wide trees, and ran at every level.
    return _phrases_where_positions(_bound(q), schema).normalize()


def _plain_terms(q: wq.Query) -> bool:
    """Tell whether `q` is a term in a field, an OR of them, or an AND or OR of those."""
    if type(q) is wq.Term:
        return isinstance(q.fieldname, str)
    if type(q) is wq.And or type(q) is wq.Or:
        return len(q.subqueries) > 1 and all(
            (type(sub) is wq.Term and isinstance(sub.fieldname, str))
            or (type(sub) is wq.Or and _plain_terms(sub))
            for sub in q.subqueries
        )
    return False


# Parsed words, per schema (an index version's) and grouping: words recur from one search to
# the next, and Whoosh's parser takes about half a millisecond a word.
WORDS_PARSED = 10_000
_PARSED: dict[int, tuple[Any, LruCache[wq.Query]]] = {}


def _parse_words(parser: MultifieldParser, text: str, words: str) -> wq.Query:
    """Whoosh's parse of `text`, made of the parses of its words, each kept for later searches.

    Text whose syntax joins words (an operator between them, `+` or `-` before one, a field
    name before a space, single quotes) is parsed whole. Otherwise each word, phrase or group
    in parentheses parses alone to what it is inside the whole, and the whole is their AND
    (or scaled OR): tests/test_index_query.py compares the two on generated queries.
    """
    segments = _top_level_segments(text)
    if not segments:
        return parser.parse(text)
    schema = parser.schema
    known = _PARSED.get(id(schema))
    if known is None or known[0] is not schema:
        if len(_PARSED) > 4:  # versions come and go: forget the old ones
            _PARSED.clear()
        known = _PARSED[id(schema)] = (schema, LruCache(WORDS_PARSED))
    cache = known[1]
    parts = []
    for segment in segments:
        # Kept per grouping: a group in parentheses, or a word its field's analyzer cuts in
        # several (`event:pycon-us-2019`), is joined by the query's AND or OR.
        plain = _PLAIN_WORD_RE.fullmatch(segment) is not None
        key = (None if plain else words, segment)  # a plain word parses alike in both groups
        q = cache.get(key)
        if q is None:
            q = _plain_word(parser, segment) if plain else None
            if q is None:
                q = parser.parse(segment)
            cache.put(key, q)
        parts.append(q)
    if len(parts) == 1:  # one word (the most common search): its parse is the whole's
        return parts[0]
    # Whoosh's parser joins the top level with a plain OR, whatever the group's scale (the
    # coordination of any-words searches is coordination.py's).
    return _joined(parts, wq.And if words == ALL_WORDS else wq.Or)


def _joined(parts: list[wq.Query], kind: type[wq.CompoundQuery]) -> wq.Query:
    """`kind(parts).normalize()` for parts that are normalized already (parses).

    Whoosh's CompoundQuery.normalize (2.7.5) first normalizes every part again, and copies each
    grandchild it lifts out of a nested part: for two words, two ORs of eight fields walked,
    hashed and deep-copied, a tenth of a search's parsing. These are its steps on the top level
    only; a part with ranges or `*` (never a parse of plain words) takes Whoosh's way.
    """
    lifted: list[wq.Query] = []
    for part in parts:
        if isinstance(part, kind):
            if part.boost == 1.0:
                lifted += part.subqueries  # Whoosh's with_boost(boost * 1.0): an equal copy
            else:
                lifted += [sub.with_boost(sub.boost * part.boost) for sub in part.subqueries]
        else:
            lifted.append(part)
    if any(isinstance(q, wq.Every | wq.TermRange | wq.NumericRange) for q in lifted):
        return kind(parts).normalize()
    if all(q is wq.NullQuery for q in lifted):
        return wq.NullQuery
    kept: list[wq.Query] = []
    seen: set[wq.Query] = set()
    for q in lifted:
        if q is wq.NullQuery or q in seen:
            continue
        seen.add(q)
        kept.append(q)
    if not kept:
        return wq.NullQuery
    if len(kept) == 1:
        return kept[0]  # the join's boost is 1: the part as it is
    return kind(kept)


# A word of letters and digits only: no syntax of the parser's applies to it (no field, sign,
# wildcard, quote, group, boost or operator), so its parse is each field's term query.
_PLAIN_WORD_RE = re.compile(r"[^\W_]+")


def _plain_word(parser: MultifieldParser, word: str) -> wq.Query | None:
    """What `parser.parse(word)` returns for a plain word, made without Whoosh's parsing steps
    (tagging, grouping, filters: four fifths of a word's parse); None for an operator's name.

    As Whoosh's MultifieldPlugin does: the word in each field, with the field's boost, joined by
    OR; a field whose analyzer drops it (a stop word) left out. tests/test_index_query.py
    compares the two on the words of a catalog and on generated ones.
    """
    if word in _OPERATOR_WORDS:
        return None
    schema = parser.schema
    analysed: dict[int, list[str]] = {}  # by analyzer: five fields share the text analyzer
    subqueries = []
    for fieldname, boost in FIELD_BOOSTS.items():  # the parser's fields (_parser)
        field = schema[fieldname] if schema is not None and fieldname in schema else None
        if field is None or field.self_parsing():
            q = parser.term_query(fieldname, word, parser.termclass, boost=boost)
        else:
            # QueryParser.term_query, with each analyzer's output reused across fields.
            texts = analysed.get(id(field.analyzer))
            if texts is None:
                texts = analysed[id(field.analyzer)] = list(
                    field.process_text(word, mode="query", tokenize=True, removestops=True)
                )
            if len(texts) > 1:
                q = parser.multitoken_query(
                    field.multitoken_query, texts, fieldname, parser.termclass, boost
                )
            else:
                q = parser.termclass(fieldname, texts[0], boost=boost) if texts else None
        if q is not None:
            subqueries.append(q)
    if not subqueries:
        return wq.NullQuery
    return wq.Or(subqueries).normalize()


_SIGN_RE = re.compile(r"(?<![^\s(])[+-]")
_LOOSE_BOOST_RE = re.compile(r"(?<![^\s(])\^")
_OPERATOR_RE = re.compile(r"(?<!\w)(?:AND|OR|NOT|ANDNOT|ANDMAYBE|REQUIRE)(?!\w)")


def _top_level_segments(text: str) -> list[str] | None:
    """The words, phrases and groups of `text` at the top level, or None when its syntax joins
    them (see _parse_words)."""
    if "'" in text or "\\" in text:  # a quoted term, or an escaped space, spans words
        return None
    if _SIGN_RE.search(text):  # `+word` and `-word` change how their whole group is joined
        return None
    if _LOOSE_BOOST_RE.search(text):  # `( x ^2)`: a boost on what came before the blank
        return None
    segments: list[str] = []
    top: list[str] = []  # the text outside groups and phrases, where operators join words
    depth = 0
    quoted = False
    start: int | None = None
    for i, c in enumerate(text):
        if c == '"':
            if not quoted and i and not (text[i - 1].isspace() or text[i - 1] == "("):
                return None  # `ab"cd`: Whoosh does not start a phrase there
            if quoted and i + 1 < len(text) and not (text[i + 1].isspace() or text[i + 1] in ")^~"):
                return None
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        elif c == "^" and depth == 0:
            return None  # a boost on a whole word: Whoosh moves it down differently
        top.append(c if depth == 0 and not quoted and c not in "()" else " ")
        if c.isspace() and depth == 0 and not quoted:
            if start is not None:
                segments.append(text[start:i])
                start = None
        elif start is None:
            start = i
    if start is not None:
        segments.append(text[start:])
    if quoted or depth or _OPERATOR_RE.search("".join(top)):
        return None
    if any(segment.endswith(":") for segment in segments):
        return None  # `title: storage`: the field names the next word
    return segments


_STOPPING: dict[int, tuple[Any, frozenset[str]]] = {}  # by schema, kept with it


def _stopping_fields(schema: Any) -> frozenset[str]:
    """The searched fields whose analyzer drops stop words ("the", "at") and 1-letter words."""
    known = _STOPPING.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    found = frozenset(
        name
        for name in FIELD_BOOSTS
        if name in schema and not list(schema[name].process_text("the", mode="query"))
    )
    if len(_STOPPING) > 4:  # index versions come and go: forget the old ones
        _STOPPING.clear()
    _STOPPING[id(schema)] = (schema, found)
    return found


def _optional_stop_words(q: wq.Query, schema: Any, stopping: frozenset[str]) -> wq.Query:
    """Drop stop words from AND groups, where they would make every talk miss.

    `training arctic at snowflake` asks each word in every field, but `at` is left only in the
    name, company and tag fields (the English text fields drop it), so requiring it would find
    nothing. A word searched in none of the stopping fields is such a word; it is dropped
    from an AND when other words remain. A stop word alone, or named with a field
    (`speaker:will`), is still searched.
    """
    if q.is_leaf():
        return q
    if isinstance(q, wq.And) and stopping:
        kept = [sub for sub in q.subqueries if not _is_stop_word(sub, schema, stopping)]
        if (
            kept
            and len(kept) < len(q.subqueries)
            and any(not isinstance(sub, wq.Not) for sub in kept)
        ):
            q = wq.And(kept, boost=q.boost)
    return q.apply(lambda sub: _optional_stop_words(sub, schema, stopping))


def _is_stop_word(q: wq.Query, schema: Any, stopping: frozenset[str]) -> bool:
    """Tell whether `q` is one unfielded word that the stopping fields dropped.

    Such a word is an OR of plain terms in the other fields only, and the stopping fields'
    analyzers drop its text; `(speaker:ada OR speaker:bob)` is not one.
    """
    if not (
        isinstance(q, wq.Or)
        and q.subqueries
        and all(isinstance(sub, wq.Term) for sub in q.subqueries)
        and not any(sub.fieldname in stopping for sub in q.subqueries)
    ):
        return False
    texts = {str(sub.text) for sub in q.subqueries}
    return all(
        not list(schema[name].process_text(text, mode="query"))
        for text in texts
        for name in stopping
    )


def _phrases_where_positions(q: wq.Query, schema: Any) -> wq.Query:
    """Search a phrase as plain words in fields indexed without positions (company, event)."""
    if isinstance(q, wq.Phrase):
        if len(q.words) == 1:  # `"python on"` once "on" is dropped: a word, not a phrase
            return wq.Term(q.fieldname, q.words[0], boost=q.boost)
        if q.fieldname not in schema or not schema[q.fieldname].format.supports("positions"):
            return wq.And([wq.Term(q.fieldname, w) for w in q.words], boost=q.boost)
        return q
    if q.is_leaf():
        return q
    return q.apply(lambda sub: _phrases_where_positions(sub, schema))


def _bound(q: wq.Query) -> wq.Query:
    """Rewrite wildcards: a short or leading one becomes its plain text; no `*a*` survives."""
    if isinstance(q, wq.Prefix):
        if len(q.text) < MIN_PREFIX:
            return wq.Term(q.fieldname, q.text, boost=q.boost) if q.text else wq.NullQuery
        return q
    if isinstance(q, wq.Wildcard):
        stem = re.split(r"[*?]", q.text, maxsplit=1)[0]
        if len(stem) >= MIN_PREFIX:
            return wq.Prefix(q.fieldname, stem, boost=q.boost)
        plain = re.sub(r"[*?]", "", q.text)
        return wq.Term(q.fieldname, plain, boost=q.boost) if plain else wq.NullQuery
    if isinstance(q, wq.FuzzyTerm):
        return wq.Term(q.fieldname, q.text, boost=q.boost)
    if q.is_leaf():
        # `( ^2)` parses to a term of no field, which no reader knows.
        return wq.NullQuery if getattr(q, "fieldname", "") is None else q
    if isinstance(q, wq.Or) and any(isinstance(sub, wq.Not) for sub in q.subqueries):
        # `x OR NOT y` matches nearly every talk (all but y's): search the positive words.
        kept = [sub for sub in q.subqueries if not isinstance(sub, wq.Not)]
        if not kept:
            return wq.NullQuery
        q = wq.Or(kept, boost=q.boost) if len(kept) > 1 else kept[0]
    return q.apply(_bound) if not q.is_leaf() else _bound(q)


def expand_prefixes(q: wq.Query, reader: Any) -> wq.Query:
    """Replace each prefix with a flat OR of its most frequent completions in the index.

    The completions are shared between the query's prefixes, and prefixes after MAX_PREFIXES
    are searched as plain words, so no query unions more than a few dozen terms. Every OR of
    terms (a word in each field, a prefix's completions) is then read with the array matcher.
    """
    # Counted per field: a stemmed field sees `obs*` as `ob*`, a name field as `obs*`.
    per_field: dict[str, list[str]] = {}
    for leaf in _leaves(q):
        if isinstance(leaf, wq.Prefix):
            texts = per_field.setdefault(leaf.fieldname, [])
            if leaf.text not in texts:
                texts.append(leaf.text)
    if per_field:
        allowed = {name: texts[:MAX_PREFIXES] for name, texts in per_field.items()}
        q = _expand(q, reader, allowed).normalize()
    return _flat_unions(q)


def _leaves(q: wq.Query) -> list[wq.Query]:
    if q.is_leaf():
        return [q]
    return [leaf for sub in q.children() for leaf in _leaves(sub)]


def _expand(q: wq.Query, reader: Any, allowed: dict[str, list[str]]) -> wq.Query:
    if isinstance(q, wq.Prefix):
        texts = allowed.get(q.fieldname, [])
        if q.text not in texts:
            return wq.Term(q.fieldname, q.text, boost=q.boost)
        share = PREFIX_FIELD_SHARE.get(q.fieldname, PREFIX_FIELD_DEFAULT)
        limit = max(2, round(PREFIX_EXPANSION * share / len(texts)))
        try:
            terms = list(reader.expand_prefix(q.fieldname, q.text))
        except (KeyError, ValueError):
            return wq.NullQuery
        if not terms:
            return wq.NullQuery
        terms.sort(key=lambda t: reader.doc_frequency(q.fieldname, t), reverse=True)
        found = [t.decode("utf-8") if isinstance(t, bytes) else t for t in terms[:limit]]
        return wq.Or([wq.Term(q.fieldname, w) for w in found], boost=q.boost)
    if q.is_leaf():
        return q
    return q.apply(lambda sub: _expand(sub, reader, allowed))


def _flat_unions(q: wq.Query) -> wq.Query:
    """Read ORs of terms with the array matcher: Whoosh's default union tree is their cost.

    The tree of binary unions spends its time asking each level whether it is still active:
    `python` (one word in eight fields, 12k matches on pyvideo) took 115 ms with the tree and
    57 ms with the array. Set after normalize(), which rebuilds ORs without the setting.
    """
    if q.is_leaf():
        return q
    if (
        isinstance(q, wq.Or)
        and q.scale is None
        and len(q.subqueries) >= ARRAY_UNION_MIN
        and all(isinstance(sub, wq.Term) for sub in q.subqueries)
    ):
        q.matcher_type = wq.Or.ARRAY_MATCHER
        return q
    for sub in q.children():
        _flat_unions(sub)
    return q


_WORD_RE = re.compile(r"(?<![\w:*?])([^\W\d_]{3,})(?![\w*?:])")
_OPERATORS = {"and", "or", "not", "andnot", "andmaybe"}
MAX_CORRECTIONS = 4  # words corrected in one query; the rest are left as typed
RARE_DF = 2  # a word this few talks use may itself be a typo...
RARE_RATIO = 20  # ...when a word one edit away is used by this many times more talks
RARE_MIN_DF = 10  # ...and by at least this many talks
ACRONYM_MAX = 5  # an all-capitals word this short is an acronym (`OMR`), never a typo
CANDIDATES = 6  # corrections of one word compared by how they fit the other words
# Fields whose words say what a talk is about, for how well a correction fits the others.
COOCCURRENCE_FIELDS = ("title", "abstract", "people", "tags", "event")


def _first_letter_changed(typed: str, candidate: str) -> bool:
    """Whether correcting `typed` to `candidate` changes its first letter (a swap of the first
    two letters keeps it: `pyhton`, `ptyhon` and `yptohn` alike are typed by someone who knew)."""
    return typed[:1] != candidate[:1] and typed[:2] != candidate[1::-1]


def protected_words(typed: str) -> frozenset[str]:
    """Words of what was typed that spelling must leave alone: field syntax (`slug:foo`)."""
    found: set[str] = set()
    for token in _TOKEN_RE.findall(typed):
        if ":" in token:
            found.update(w.lower() for w in re.findall(r"[^\W\d_]+", token))
    return frozenset(found)


WORDS_COUNTED = 20_000  # words whose count (talks using them) an index version keeps
_STOP = -1  # a kept count for a stop word: never "corrected"


class WordCounts:
    """What spelling asks of an index version about a word, the answers kept where it pays.

    How many talks use a word (summed over the searched fields) is asked for every word of a
    search that found few talks, and words come back search after search: the count is kept,
    up to WORDS_COUNTED words (eight analyses and sixteen term lookups a word, a third of the
    time of spelling on pyvideo). Which talks use a word is read from the posting lists the
    scorer keeps decoded (`kept_ids`), and from the index only when it has none.
    """

    def __init__(
        self,
        searcher: Any,
        kept_ids: Callable[[str, bytes], Sequence[int] | None] | None = None,
        size: int = WORDS_COUNTED,
    ) -> None:
        self.reader = searcher.reader()
        self.schema = searcher.schema
        self._kept_ids = kept_ids
        self._counts: LruCache[int] = LruCache(size)

    def frequency(self, word: str) -> int | None:
        """How many documents use the word, summed over fields; None for a stop word."""
        known = self._counts.get(word)
        if known is None:
            known = self._count(word)
            self._counts.put(word, known)
        return None if known == _STOP else known

    def _count(self, word: str) -> int:
        total = 0
        for fieldname in FIELD_BOOSTS:
            tokens = list(self.schema[fieldname].process_text(word, mode="query"))
            if not tokens:
                return _STOP  # a stop word ("the"), not a misspelling: never "correct" it
            total += sum(self.reader.doc_frequency(fieldname, token) for token in tokens)
        return total

    def docs(self, word: str) -> frozenset[int]:
        """The documents that use `word` in the fields that say what a talk is about."""
        found: set[int] = set()
        for fieldname in COOCCURRENCE_FIELDS:
            field = self.schema[fieldname]
            for token in field.process_text(word, mode="query"):
                kept = self._kept_ids(fieldname, field.to_bytes(token)) if self._kept_ids else None
                if kept is not None:
                    found.update(kept)
                    continue
                try:
                    found.update(self.reader.postings(fieldname, token).all_ids())
                except TermNotFound:
                    continue
        return frozenset(found)


def suggest_spelling(
    counts: WordCounts,
    text: str,
    speller: Speller | None,
    *,
    rare_too: bool = False,
    typed: str | None = None,
) -> str | None:
    """Return `text` with its misspelled words replaced by the closest indexed words, or None.

    A word no field knows is corrected within one edit (two for words of six letters or more).
    With `rare_too` (a search that found few talks), a word very few talks use is also replaced
    when a word one edit away is far more common and is found with the query's other words:
    a corpus has its own typos (`asyncronous`, `paraller`). So is a word no talk has as typed
    whose stem a few talks have by chance (`creaing`, stemmed `crea`).

    Among candidates, one found with all the other words wins, then the fewer edits, then one
    that keeps the typed first letter, then the one found in most talks with the other words
    (counted up to the talks that use the word itself, not its stem), then the more used word:
    a first name used by many talks must not beat the word the query is about. Words no talk
    has are corrected first, and a rare word that already meets all the corrected others in
    some talk is left alone unless a correction fits them RARE_RATIO times better: a name
    (`reno`), not a typo. Short all-capital words (acronyms) and the words of field syntax in
    `typed` are never changed.
    """
    if speller is None:
        return None
    keep = protected_words(typed if typed is not None else text)
    matches = list(_WORD_RE.finditer(text))
    if not matches:
        return None

    def fold(word: str) -> str:
        return "".join(t.text for t in NAME_ANALYZER(word))

    folded_words = [fold(m.group(1)) for m in matches]
    doc_sets: dict[str, frozenset[int]] = {}
    frequency = counts.frequency

    def docs(word: str) -> frozenset[int]:
        if word not in doc_sets:
            doc_sets[word] = counts.docs(word)
        return doc_sets[word]

    def fit(candidate: str, others: list[str]) -> tuple[int, int]:
        """(talks with the candidate and every other word, with it and any other word)."""
        mine = docs(candidate)
        together = set(mine)
        for other in others:
            together &= docs(other)
        return (len(together) if others else 0, sum(len(mine & docs(o)) for o in others))

    replacements: dict[int, str] = {}
    replacements_folded: dict[int, str] = {}  # by word number: corrections, as the others
    # Words no talk has come first: the words they are corrected to are what the rarer words of
    # the query are then checked against (`reelase reno new`: release, and reno stays).
    order = sorted(range(len(matches)), key=lambda i: frequency(folded_words[i]) != 0)
    for i in order:
        match = matches[i]
        word, folded = match.group(1), folded_words[i]
        if len(replacements) >= MAX_CORRECTIONS:
            break
        if word.lower() in _OPERATORS or not folded or folded in keep:
            continue
        if word.isupper() and len(word) <= ACRONYM_MAX:
            continue
        df = frequency(folded)
        if df is None:
            continue
        if df == 0:
            found = speller.candidates(folded, maxdist=1 if len(folded) < 6 else 2)
        elif rare_too and (df <= RARE_DF or (folded.isalpha() and not speller.knows(folded))):
            # A rare word, or one no talk has as typed whose stem a few talks have by chance
            # (`creaing` is no word, but a stemmer makes it `crea`, Spanish in six talks).
            found = speller.candidates(folded, maxdist=1, min_df=max(RARE_MIN_DF, RARE_RATIO * df))
        else:
            continue
        if not found:
            continue
        # Typists rarely get a word's first letter wrong: among corrections as near, those
        # that keep it are compared first (`dbug` is `debug` before `bug`, `sries` `series`).
        found.sort(key=lambda c: (c[1], _first_letter_changed(folded, c[0])))
        others = [
            replacements_folded.get(j, w)
            for j, w in enumerate(folded_words)
            if j != i and w and (j in replacements_folded or frequency(w))
        ]
        ranked = []
        for candidate, edits, used in found[:CANDIDATES]:
            together, anywhere = fit(candidate, others)
            # Talks are found by a word's stem, so `procession` meets what `process` meets;
            # the talks with the word itself are at most the `used` that have it.
            together, anywhere = min(together, used), min(anywhere, used)
            changed = _first_letter_changed(folded, candidate)
            key = (-(together > 0), edits, changed, -together, -anywhere, -used)
            ranked.append((key, candidate))
        best_key, best = min(ranked)
        if df > 0 and others:
            if best_key[4] == 0:
                continue  # a rare word whose neighbour never meets the other words: leave it
            as_typed = fit(folded, others)[0]
            if as_typed and -best_key[3] < RARE_RATIO * as_typed:
                # The word as typed meets all the others in some talk, and the correction does
                # not fit them far better: a name (`reno`, a release notes tool), not a typo.
                continue
        replacements[match.start(1)] = best
        replacements_folded[i] = fold(best)
    if not replacements:
        return None
    return _WORD_RE.sub(lambda m: replacements.get(m.start(1), m.group(1)), text)
