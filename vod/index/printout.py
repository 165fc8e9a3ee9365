"""Search results as `vod search` prints them: one JSON object, or text for a terminal."""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vod.catalog import Catalog
    from vod.index.searcher import SearchResults

_MARK = re.compile(r"</?mark>")


def results_json(results: SearchResults) -> str:
    """Return the query, total, correction and every hit's slug, score and snippet as JSON."""
    return json.dumps(
        {
            "query": results.query,
            "total": results.total,
            "corrected": results.corrected,
            "results": [
                {"slug": h.slug, "score": h.score, "snippet": h.snippet} for h in results.hits
            ],
        },
        indent=2,
    )


def results_text(results: SearchResults, query: str, catalog: Catalog) -> list[str]:
    """Return the lines a terminal shows: any correction, the count, then each hit's title,
    path, score and snippet (its <mark>s as *stars*)."""
    out: list[str] = []
    if results.searched_corrected:
        out.append(f"No talks match {query!r}; showing results for {results.corrected!r}.")
    elif results.corrected:
        out.append(f"Did you mean: {results.corrected}?")
    out.append(f"{results.total} talk(s) match.")
    for hit in results.hits:
        talk = catalog.talks.get(hit.slug)
        title = talk.display_title if talk else hit.slug
        snippet = html.unescape(_MARK.sub("*", hit.snippet))
        out.append(f"\n{title}\n  /talks/{hit.slug}  (score {hit.score:.2f})\n  {snippet}")
    return out
