"""Full-text search over the catalog: versioned Whoosh indexes and a bounded query layer."""

from vod.index.build import IndexInfo, build_index, current_version, index_state, prune_versions
from vod.index.searcher import Hit, SearchIndex, SearchResults

__all__ = [
    "Hit",
    "IndexInfo",
    "SearchIndex",
    "SearchResults",
    "build_index",
    "current_version",
    "index_state",
    "prune_versions",
]
