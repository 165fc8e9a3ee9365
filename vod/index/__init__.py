"""Full-text search over the catalog: versioned Whoosh indexes and a bounded query layer."""

from vod.index.build import IndexInfo, build_index, current_version, index_state, prune_versions
from vod.index.facets import Facet, FacetValue, Filters, QueryParams
from vod.index.incremental import update_at_startup, update_index
from vod.index.searcher import MAX_PAGE, SORTS, Hit, SearchIndex, SearchResults
from vod.index.snippets import SaidAt
from vod.index.suggest import Suggestion
from vod.index.transcript import Cue
from vod.index.whoosh_fixes import apply as _apply_whoosh_fixes

# Every process that opens an index needs them: no copy of the index per worker, and commits
# without a million `stat` calls (whoosh_fixes.py; issue #5).
_apply_whoosh_fixes()

__all__ = [
    "MAX_PAGE",
    "SORTS",
    "Cue",
    "Facet",
    "FacetValue",
    "Filters",
    "Hit",
    "IndexInfo",
    "QueryParams",
    "SaidAt",
    "SearchIndex",
    "SearchResults",
    "Suggestion",
    "build_index",
    "current_version",
    "index_state",
    "prune_versions",
    "update_at_startup",
    "update_index",
]
