"""What an import says when it is done: its report, and how the catalog it wrote loads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vod.catalog import validate_catalog_cached

if TYPE_CHECKING:
    from vod.catalog import Catalog
    from vod.errors import CatalogProblem
    from vod.importers.merge import ImportReport


@dataclass(frozen=True)
class ImportOutcome:
    """An import's report, with the catalog it wrote as `vod serve` will read it."""

    report: ImportReport
    catalog: Catalog | None  # None: the catalog written does not load
    problems: list[CatalogProblem]

    def as_json(self) -> str:
        """Return the report and the written catalog's problems (`errors`) as one JSON object."""
        body = {**self.report.as_dict(), "errors": [p.as_dict() for p in self.problems]}
        return json.dumps(body, indent=2, default=str)

    def lines(self) -> list[str]:
        """Say what the import did, then every problem of the catalog written, one line each."""
        return self.report.lines() + [f"error: {p}" for p in self.problems]


def check_import(report: ImportReport, out: Path, cache_dir: Path) -> ImportOutcome:
    """Load the catalog an import wrote to `out` as `vod serve` will (warming its cache)."""
    loaded, problems = validate_catalog_cached(out, cache_dir)
    return ImportOutcome(report, loaded, problems)
