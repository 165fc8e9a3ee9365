"""Which catalog an index version belongs to, and the index folder each catalog gets by default.

Every `vod` command run from one folder used to share `index/` and its CURRENT pointer, so
serving one catalog and indexing another there made the server search the other catalog
(issue 10, item 1). A catalog is identified by where it lives (its absolute path): its digest
changes with every edit, its path does not. Each version records the identity of the catalog
it was built from; a server opens only versions of its own catalog, and by default each
catalog gets its own index folder, `index/<name>-<hash of the path>`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

# The folder under which each catalog gets its own index folder when VOD_INDEX_DIR is not set.
DEFAULT_INDEX_ROOT = Path("index")
KEY_HASH_CHARS = 10  # hex digits of the path's hash in a folder name: no collision in practice


def catalog_identity(path: Path) -> str:
    """Return the identity of the catalog at `path`: its absolute, normalized path.

    Symlinks are not resolved: a snapshot host reads its catalog through a link that moves to
    each new snapshot, and stays the same catalog.
    """
    return os.path.normpath(os.path.abspath(path))


def catalog_key(path: Path) -> str:
    """Return a folder name for the catalog at `path`: readable, and unique to its identity."""
    identity = catalog_identity(path)
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(identity).stem).strip("-")[:40] or "catalog"
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{name}-{digest[:KEY_HASH_CHARS]}"


def default_index_dir(catalog: Path, root: Path = DEFAULT_INDEX_ROOT) -> Path:
    """Return the index folder a catalog gets when VOD_INDEX_DIR is not set."""
    return root / catalog_key(catalog)
