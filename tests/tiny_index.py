"""Build a tiny search index from a few talks written inline, for exact-hit tests (issue #12)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from vod.catalog import load_catalog
from vod.index import SearchIndex, build_index


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def tiny_index(folder: Path, events: dict[str, list[dict[str, Any]]]) -> SearchIndex:
    """Index `events` ({"Event Name 2019": [talk, ...]}) and return the live index.

    A talk is a dict with a slug and a title, and optionally an abstract and `speakers` (names);
    an event's slug is its name in lowercase with hyphens, and its year the name's last word.
    """
    catalog = folder / "catalog"
    catalog.mkdir(parents=True)
    people: dict[str, str] = {}
    for n, (name, talks) in enumerate(events.items()):
        year = int(name.split()[-1]) if name.split()[-1].isdigit() else 2020
        records = []
        for talk in talks:
            record = {k: v for k, v in talk.items() if k != "speakers"}
            names = talk.get("speakers", [])
            record["speakers"] = [_slug(p) for p in names]
            people.update({_slug(p): p for p in names})
            records.append(record)
        event = {
            "slug": _slug(name),
            "name": name,
            "start_date": f"{year}-05-0{n % 9 + 1}",
            "timezone": "UTC",
        }
        (catalog / f"event-{n}.yaml").write_text(
            yaml.safe_dump({"event": event, "talks": records}, sort_keys=False, allow_unicode=True)
        )
    speakers = [{"slug": slug, "name": name} for slug, name in people.items()]
    (catalog / "speakers.yaml").write_text(
        yaml.safe_dump({"speakers": speakers}, sort_keys=False, allow_unicode=True)
    )
    build_index(load_catalog(catalog), folder / "index")
    return SearchIndex(folder / "index")


def found(index: SearchIndex, query: str, **kwargs: Any) -> list[str]:
    """The slugs a search finds, best first."""
    return [h.slug for h in index.search(query, **kwargs).hits]


def every_word(index: SearchIndex, query: str, **kwargs: Any) -> list[str]:
    """The slugs of the talks with every word, best first (not the any-words tail below them)."""
    results = index.search(query, **kwargs)
    return [h.slug for h in results.hits[: results.all_words]]
