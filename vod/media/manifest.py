"""The media manifest: what `vod media` made for each recording, as JSON the site loads once.

Each recording's entry is written beside it (`<stem>.media.json`) as soon as its outputs are
published, so an interrupted run loses no finished work; the combined manifest
(`_vod/media-manifest.json`) gathers every entry, so the site reads one file, not one per talk.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from vod.media.entry import MediaEntry

if TYPE_CHECKING:
    from vod.catalog import Catalog

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_LIMIT = 256 * 1024 * 1024  # bytes: ~1 KB an entry, far beyond any real catalog
ENTRY_LIMIT = 1024 * 1024


def entry_json(entry: MediaEntry) -> str:
    """Serialise one entry (the sidecar beside a recording)."""
    return json.dumps(entry.as_dict(), indent=1, sort_keys=True) + "\n"


def read_entry(text: str) -> MediaEntry | None:
    """Read a sidecar entry; None (logged) when it is not a valid one."""
    try:
        return MediaEntry.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ignoring an unreadable media entry: %r", exc)
        return None


@dataclass(frozen=True)
class MediaManifest:
    """Every recording's entry, by recording key."""

    entries: Mapping[str, MediaEntry] = field(default_factory=dict)
    digest: str = ""  # of the JSON it was read from

    def get(self, key: str | None) -> MediaEntry | None:
        return self.entries.get(key) if key else None

    def __len__(self) -> int:
        return len(self.entries)

    def merged(self, entries: Iterable[MediaEntry]) -> MediaManifest:
        """Return a manifest with `entries` added or replaced."""
        out = dict(self.entries)
        out.update((e.key, e) for e in entries)
        return MediaManifest(out)

    def to_json(self) -> str:
        """Serialise the manifest (JSON, sorted, so unchanged entries give identical bytes)."""
        body = {
            "format": FORMAT_VERSION,
            "recordings": {k: self.entries[k].as_dict() for k in sorted(self.entries)},
        }
        return json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> MediaManifest:
        """Read a manifest; a bad entry is skipped (and logged), a bad file gives an empty one."""
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            log.warning("the media manifest is not JSON (%s); ignoring it", exc)
            return cls()
        if not isinstance(body, dict) or body.get("format") != FORMAT_VERSION:
            log.warning("the media manifest has an unknown format; ignoring it")
            return cls()
        entries: dict[str, MediaEntry] = {}
        recordings = body.get("recordings")
        for key, raw in (recordings if isinstance(recordings, dict) else {}).items():
            try:
                entry = MediaEntry.from_dict(raw)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                log.warning("media manifest: skipping the entry of %r: %r", key, exc)
                continue
            entries[entry.key] = entry
        return cls(entries, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


def with_media(catalog: Catalog, manifest: MediaManifest) -> Catalog:
    """Return the catalog with each recording's media entry, duration and poster filled in.

    The catalog's own `duration` and `poster` win: the manifest only fills what it leaves out.
    The digest stays the catalog's, so the index does not count the manifest as a change.
    """
    if not manifest.entries:
        return catalog
    talks = dict(catalog.talks)
    changed = False
    for slug, talk in catalog.talks.items():
        rec = talk.recording
        entry = manifest.get(rec.key) if not rec.url else None
        if entry is None:
            continue
        talks[slug] = replace(
            talk,
            recording=replace(
                rec,
                media=entry,
                duration=rec.duration or max(1, round(entry.duration_s)),
                poster=rec.poster or entry.poster,
            ),
        )
        changed = True
    if not changed:
        return catalog
    return replace(
        catalog, talks=talks, fingerprints=catalog.fingerprints, media_digest=manifest.digest
    )
