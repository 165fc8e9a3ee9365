"""`vod check`: validate a catalog, look for every recording it names in the store, and say
what was not looked at (external links unless asked, talks not recorded)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vod.catalog.external import ExternalLink, LinkResult, check_links, recording_links
from vod.catalog.loader import _compose, catalog_files, validate_catalog
from vod.catalog.model import Catalog
from vod.errors import CatalogError, CatalogProblem, StorageUnavailable
from vod.providers import unsafe_url_reason

if TYPE_CHECKING:
    from vod.storage import Storage


@dataclass
class CheckReport:
    """What `vod check` found: catalog problems, missing recordings, an unreachable store,
    dead external links, and what it did not check."""

    catalog: Catalog | None
    problems: list[CatalogProblem]
    external: bool = False  # were the external recording links checked?
    storage_name: str = ""
    missing: list[dict[str, str]] = field(default_factory=list)
    unreachable: list[dict[str, str]] = field(default_factory=list)
    links: list[ExternalLink] = field(default_factory=list)
    dead: list[LinkResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether nothing at all was found wrong."""
        return not self.problems and not self.missing and not self.unreachable and not self.dead

    @property
    def not_recorded(self) -> int:
        """Count the talks marked do_not_record: nothing to check for them."""
        if self.catalog is None:
            return 0
        return sum(1 for t in self.catalog.talks.values() if t.do_not_record)

    def as_json(self) -> str:
        """Return the report as one JSON object (optional keys only when they have something)."""
        out: dict[str, Any] = {
            "ok": self.ok,
            "errors": [p.as_dict() for p in self.problems],
            "missing": self.missing,
        }
        if self.unreachable:
            out["unreachable"] = self.unreachable
        if self.external:
            out["external"] = {
                "checked": len(self.links),
                "dead": [r.as_dict() for r in self.dead],
            }
        elif self.links:
            out["not_checked"] = {"external": len(self.links)}
        if self.not_recorded:
            out["not_recorded"] = self.not_recorded
        return json.dumps(out, indent=2)

    def lines(self) -> list[str]:
        """Say what was found, one line each, then a summary, then what was not checked."""
        out = [f"error: {p}" for p in self.problems]
        out += [
            f"missing: {m['talk']}: no recording at {m['key']} in {self.storage_name}"
            for m in self.missing
        ]
        out += [f"unreachable: {self.storage_name}: {u['error']}" for u in self.unreachable]
        out += [f"dead: {r}" for r in self.dead]
        links, not_recorded = len(self.links), self.not_recorded
        if self.ok:
            talks = len(self.catalog.talks) if self.catalog else 0
            if not links and not not_recorded:
                out.append(f"OK: {talks} talks, every recording present in {self.storage_name}.")
            else:
                stored = talks - links - not_recorded
                out.append(
                    f"OK: {talks} talks; {stored} recording(s) present in {self.storage_name}."
                )
        else:
            out.append(
                f"{len(self.problems)} catalog error(s), {len(self.missing)} missing recording(s)"
                + (", storage unreachable" if self.unreachable else "")
                + (f", {len(self.dead)} dead external link(s)" if self.external else "")
                + "."
            )
        # Say what was not looked at: an "OK" must not hide recordings nobody checked (issue #14).
        if self.external:
            out.append(f"External recording links: {links} checked, {len(self.dead)} dead.")
        elif links:
            out.append(
                f"Not checked: {links} external recording link(s); "
                "`vod check --external` checks them."
            )
        if not_recorded:
            out.append(f"Not recorded (do_not_record): {not_recorded} talk(s), nothing to check.")
        return out


def check_catalog(
    path: Path,
    storage: Callable[[], Storage],
    *,
    external: bool = False,
    jobs: int = 8,
    per_host_rate: float = 2.0,
) -> CheckReport:
    """Validate the catalog at `path`; if it loads, look for its recordings in `storage()`, and
    with `external` check its external recording links over HTTP.

    The store is set up only for a catalog that loads, so a broken catalog is reported even
    where no store is configured; `storage()` may raise ConfigError.
    """
    loaded, problems = validate_catalog(path)
    if loaded is None:
        return CheckReport(loaded, problems, external=external)
    # URLs that load but cannot be linked or framed safely (the site shows a note).
    report = CheckReport(loaded, problems + unsafe_urls(path), external=external)
    store = storage()
    report.storage_name = store.describe()
    for talk in loaded.talks.values():
        key = talk.recording.key
        if key is None:
            continue
        try:
            if not store.exists(key):
                report.missing.append({"talk": talk.slug, "key": key})
        except StorageUnavailable as exc:
            report.unreachable.append({"talk": talk.slug, "key": key, "error": str(exc)})
            break  # one clear message; the store is down for the others too
    report.links = recording_links(path)
    if external and report.links:
        results = check_links(report.links, jobs=jobs, per_host_rate=per_host_rate)
        report.dead = [r for r in results if not r.ok]
    return report


# Fields whose value is a URL a page links to, frames or names in a header.
_URL_FIELDS = frozenset({"url", "poster", "photo", "src"})


def unsafe_urls(path: Path) -> list[CatalogProblem]:
    """List catalog URLs that load but cannot be linked or framed safely, located precisely.

    They do not stop the catalog from loading (one record must never take the site down): the
    talk renders with a note and the URL never reaches a header. `vod check` reports them.
    """
    found: list[CatalogProblem] = []
    seen: set[int] = set()

    def walk(node: Node, where: str, label: str) -> None:
        if id(node) in seen:  # an alias: its node was walked where it was defined
            return
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, ScalarNode) else "?"
                field = f"{where}.{name}" if where else name
                if name in _URL_FIELDS and isinstance(value, ScalarNode):
                    text = str(value.value).strip()
                    reason = (
                        unsafe_url_reason(text)
                        if text.startswith(("http://", "https://"))
                        else None
                    )
                    if reason is not None:
                        line = value.start_mark.line + 1
                        found.append(CatalogProblem(label, line, field, reason))
                else:
                    walk(value, field, label)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{where}[{i}]", label)

    try:
        files = catalog_files(path)
    except CatalogError:
        return found  # validate_catalog reports it
    base = path if path.is_dir() else path.parent
    for file in files:
        label = str(path / file.relative_to(base)) if path.is_dir() else str(file)
        try:
            root = _compose(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # validate_catalog reports it
        if root is not None:
            walk(root, "", label)
    return found
