"""JSON as the importers read it: keys given twice are found, and nesting is bounded.

A schedule.json comes from a third party. Python keeps the last of two values of one key, other
tools keep the first: the organiser is told, not left with whichever the parser chose. And
`[[[[...]]]]` a hundred thousand deep made `json.loads` die with a RecursionError traceback;
no schedule or pyvideo record needs more than a few levels (issue #10 item 9).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # levels of objects and arrays; pretalx's schedule.json uses 7


class JsonError(ValueError):
    """The text is not JSON, or is nested more deeply than MAX_DEPTH."""


def parse_json(data: bytes | str) -> tuple[Any, list[str]]:
    """Parse `data`; return the value and each key that an object gives more than once.

    Raise JsonError for invalid JSON or nesting deeper than MAX_DEPTH. Of a repeated key, the
    last value is kept (as Python and JavaScript do).
    """
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    repeated.append(key)
                seen.add(key)
        return obj

    try:
        value = json.loads(data, object_pairs_hook=pairs)
    except RecursionError:
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonError(str(exc)) from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep")
    return value, list(dict.fromkeys(repeated))


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Tell whether objects and arrays nest deeper than `limit` (without recursing)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False
