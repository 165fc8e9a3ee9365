"""One identity per speaker: name keys, speaker slugs, and likely duplicates to confirm.

Two spellings are the same person when their keys are equal: case, accents, punctuation and
spacing do not count (`Marc-André Lemburg` = `marc andre lemburg`). Other variants (`J. Rasley`,
`James A Bednar`) are listed by `vod speakers --duplicates` for an organizer to confirm, by adding
the variant to the speaker's `aliases`; importers then map it to that speaker.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vod.catalog.model import Catalog, Speaker

# Letters that Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i"}
)
_NOT_WORD = re.compile(r"[\W_]+")
SLUG_MAX = 80  # characters of a generated slug before its uniqueness suffix
# A block of speakers sharing a surname larger than this is compared by its keys only.
BLOCK_LIMIT = 200


def name_key(name: str) -> str:
    """Return the identity key of a name: no case, accents, punctuation or extra spaces."""
    text = name.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c)).translate(_FOLD)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def slugify(text: str, fallback: str = "item", limit: int = SLUG_MAX) -> str:
    """Return a slug (lowercase ASCII letters, digits and single hyphens) for `text`.

    Text in other scripts keeps its ASCII part and gains a short hash, so two different names
    never share a slug by losing their letters.
    """
    key = name_key(text)
    ascii_words = [w for w in key.split() if w.isascii()]
    slug = "-".join(ascii_words)
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    if len(ascii_words) != len(key.split()) or not slug:
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:6] if key else "0"
        slug = f"{slug or fallback}-{digest}"
    return slug


# Reasons two names are one person, most certain first.
RANK = {
    "same name": 0,
    "same letters, spaced differently": 1,
    "same words in another order": 2,
    "an initial for the first name": 3,
    "same first and last name, middle name differs": 4,
    "nearly the same spelling": 5,
}


@dataclass(frozen=True)
class DuplicatePair:
    """Two speakers that are probably one person, and why vod thinks so."""

    first: str  # speaker slugs, in catalog order
    second: str
    reason: str


def _variants(speaker: Speaker) -> list[str]:
    return [k for k in (name_key(n) for n in (speaker.name, *speaker.aliases) if n) if k]


def _initial_match(a: list[str], b: list[str]) -> bool:
    """`j rasley` and `jeff rasley`: same surname, a first name that is the other's initial."""
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-1]:
        return False
    return (len(a[0]) == 1 and b[0].startswith(a[0])) or (len(b[0]) == 1 and a[0].startswith(b[0]))


def _reason(a: str, b: str) -> str | None:
    """Say why two name keys are probably one person, or None."""
    if a == b:
        return "same name"
    wa, wb = a.split(), b.split()
    if sorted(wa) == sorted(wb):
        return "same words in another order"
    if a.replace(" ", "") == b.replace(" ", ""):
        return "same letters, spaced differently"
    if len(wa) >= 2 and len(wb) >= 2 and wa[0] == wb[0] and wa[-1] == wb[-1]:
        return "same first and last name, middle name differs"
    if _initial_match(wa, wb):
        return "an initial for the first name"
    if min(len(a), len(b)) >= 8:
        matcher = SequenceMatcher(None, a, b)
        # The cheap upper bounds first: most pairs are ruled out without the full comparison.
        quick = matcher.real_quick_ratio() >= 0.9 and matcher.quick_ratio() >= 0.9
        if quick and matcher.ratio() >= 0.9:
            return "nearly the same spelling"
    return None


def likely_duplicates(speakers: Mapping[str, Speaker]) -> list[DuplicatePair]:
    """List pairs of speakers that are probably one person, most certain first."""
    keys = {slug: _variants(s) for slug, s in speakers.items()}
    order = {slug: i for i, slug in enumerate(speakers)}
    # Compare only speakers sharing a surname or a first name, not every pair of 13,000.
    blocks: dict[str, set[str]] = {}
    for slug, variants in keys.items():
        for key in variants:
            words = key.split()
            blocks.setdefault("last:" + words[-1], set()).add(slug)
            blocks.setdefault("first:" + words[0], set()).add(slug)
            blocks.setdefault("flat:" + key.replace(" ", ""), set()).add(slug)
            blocks.setdefault("sorted:" + " ".join(sorted(words)), set()).add(slug)
    found: dict[tuple[str, str], str] = {}
    for block in blocks.values():
        if len(block) < 2 or len(block) > BLOCK_LIMIT:
            continue
        for x, y in combinations(sorted(block, key=order.__getitem__), 2):
            if (x, y) in found:
                continue
            reasons = [r for ka in keys[x] for kb in keys[y] if (r := _reason(ka, kb))]
            if reasons:
                found[(x, y)] = min(reasons, key=RANK.__getitem__)
    pairs = [DuplicatePair(x, y, r) for (x, y), r in found.items()]
    pairs.sort(key=lambda p: (RANK[p.reason], order[p.first], order[p.second]))
    return pairs


class SpeakerDirectory:
    """Find the speaker a name belongs to, by its key or one of the speaker's aliases."""

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}  # name key -> speaker slug
        self.slugs: set[str] = set()

    def add(self, slug: str, names: Iterable[str | None]) -> None:
        """Register a speaker and every name (name, aliases) that means them."""
        self.slugs.add(slug)
        for name in names:
            if name and (key := name_key(name)):
                self.by_key.setdefault(key, slug)

    def find(self, name: str) -> str | None:
        return self.by_key.get(name_key(name))

    def new_slug(self, name: str) -> str:
        """Return an unused slug for a new speaker called `name`."""
        base = slugify(name, fallback="speaker")
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        return slug


# ---- `vod speakers` ---------------------------------------------------------------------------


def speaker_row(catalog: Catalog, slug: str) -> dict[str, Any]:
    """Return a speaker's slug, name and number of talks."""
    speaker = catalog.speakers[slug]
    return {"slug": slug, "name": speaker.name, "talks": len(catalog.speaker_talks(slug))}


def speaker_lines(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Return one tab-separated line per speaker: slug, name, talk count."""
    return [
        f"{r['slug']}\t{r['name'] or '(name not published)'}\t{r['talks']} talk(s)" for r in rows
    ]


def duplicate_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """Return the likely duplicate speakers of a catalog: both speakers' rows and the reason."""
    return [
        {
            "first": speaker_row(catalog, p.first),
            "second": speaker_row(catalog, p.second),
            "reason": p.reason,
        }
        for p in likely_duplicates(catalog.speakers)
    ]


def duplicate_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Return one line per likely duplicate pair, then how to merge one."""
    out = []
    for row in rows:
        a, b = row["first"], row["second"]
        out.append(
            f"{a['name']!r} ({a['slug']}, {a['talks']} talk(s)) and {b['name']!r} "
            f"({b['slug']}, {b['talks']} talk(s)): {row['reason']}"
        )
    out.append(
        f"{len(rows)} likely duplicate(s). To merge one, add the variant name to the other "
        "speaker's `aliases` and import again (or point its talks at one slug by hand)."
    )
    return out


def sort_speaker_rows(rows: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    """Order `vod speakers` rows: "talks" (most first, then name), "name", or as given."""

    def name(row: dict[str, Any]) -> tuple[str, str]:
        return (name_key(row["name"] or ""), row["slug"])

    if order == "talks":
        return sorted(rows, key=lambda r: (-r["talks"], *name(r)))
    if order == "name":
        return sorted(rows, key=name)
    return rows
