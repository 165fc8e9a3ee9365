"""Which index version a process may serve: one of its own catalog, whose files are intact.

The CURRENT pointer names the live version, but a server does not follow it blindly (issue 10,
items 1 and 8):
- a version built from another catalog is never opened; /healthz reports the mismatch;
- a version whose files do not match what was recorded when it was built (integrity.py) is
  never opened, and one found damaged while serving is dropped; the process falls back to the
  newest intact version of its catalog, checked on its own (incremental builds hard-link files,
  so one damaged file can be shared by several versions), or, with none left, searches answer
  503. /healthz says which.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from vod.index.build import IndexInfo, current_version, own_versions
from vod.index.integrity import DamagedIndex, check_files

log = logging.getLogger(__name__)


class VersionGuard:
    """Choose the version to serve for one index folder and one catalog, and say why."""

    def __init__(self, index_dir: Path, catalog: str | None) -> None:
        self.index_dir = index_dir
        self.catalog = catalog  # its identity (identity.py); None accepts any catalog
        self.damaged: dict[str, str] = {}  # version name -> what is wrong with it
        self.mismatch: str | None = None  # CURRENT names another catalog's version
        self._lock = threading.Lock()

    def choose(self) -> IndexInfo | None:
        """Return the version to serve, or None when there is none (or none intact)."""
        live = current_version(self.index_dir)
        if live is None:
            return None
        if live.belongs_to(self.catalog):
            self.mismatch = None
            if live.path.name not in self.damaged:
                return live
        else:
            if self.mismatch is None:
                log.error(
                    "index %s was built from another catalog (%s); not serving it",
                    live.path.name,
                    live.catalog,
                )
            self.mismatch = (
                f"CURRENT names {live.path.name}, built from another catalog ({live.catalog}); "
                "it is not served"
            )
        for info in own_versions(self.index_dir, self.catalog):
            if info.path.name not in self.damaged and info.path != live.path:
                return info
        return None

    def verify(self, info: IndexInfo, checksums: bool = True) -> bool:
        """Check a version's files; a damaged one is remembered and never served again."""
        try:
            check_files(info.path, info.recorded_files(), checksums=checksums)
        except DamagedIndex as exc:
            with self._lock:
                if info.path.name not in self.damaged:
                    log.error("index %s is damaged: %s", info.path.name, exc)
                self.damaged[info.path.name] = str(exc)
            return False
        return True

    def is_damaged(self, info: IndexInfo) -> bool:
        """Tell whether a version was found damaged."""
        return info.path.name in self.damaged

    def health(self, serving: IndexInfo | None) -> dict[str, Any]:
        """What /healthz says about the index: ok, fallback, mismatch, damaged or missing."""
        live = current_version(self.index_dir)
        if serving is None or self.is_damaged(serving):
            status = "damaged" if self.damaged else ("mismatch" if self.mismatch else "missing")
            detail = next(iter(self.damaged.values()), None) or self.mismatch
            if status == "missing":
                detail = f"no index under {self.index_dir}; run `vod index`"
            missing: dict[str, Any] = {"status": status, "detail": detail}
            if self.damaged:
                missing["damaged"] = sorted(self.damaged)
            return missing
        body: dict[str, Any] = {
            "status": "ok",
            "version": serving.path.name,
            "documents": serving.documents,
            "built_at": serving.built_at,
        }
        if self.mismatch is not None:
            body.update(status="mismatch", detail=self.mismatch)
        elif live is not None and live.path != serving.path and live.path.name in self.damaged:
            body.update(
                status="fallback",
                detail=f"{live.path.name} is damaged ({self.damaged[live.path.name]}); "
                f"serving the previous version {serving.path.name}",
            )
        if self.damaged:
            body["damaged"] = sorted(self.damaged)
        return body
