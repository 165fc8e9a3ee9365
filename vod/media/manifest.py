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
from typing import TYPE_CHECKING, Any

from vod.media.tools import Probe
from vod.storage import safe_key

if TYPE_CHECKING:
    from vod.catalog import Catalog

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_LIMIT = 256 * 1024 * 1024  # bytes: ~1 KB an entry, far beyond any real catalog
ENTRY_LIMIT = 1024 * 1024
DOWNLOAD_KINDS = ("original", "audio", "240p", "360p", "480p", "720p", "1080p")


@dataclass(frozen=True)
class Download:
    """A file offered for download: the original, the audio-only file or a rendition."""

    kind: str  # "original", "audio" or a rendition name ("360p")
    key: str
    mime: str
    bytes: int
    label: str  # what it is, for people: "MP4 · H.264/AAC · 1920×1080"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "mime": self.mime,
            "bytes": self.bytes,
            "label": self.label,
        }


@dataclass(frozen=True)
class ThumbGrid:
    """How the seek-preview sprite is laid out: thumbnail i covers [i, i+1) x interval."""

    interval: float
    count: int
    columns: int
    width: int
    height: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "count": self.count,
            "columns": self.columns,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ThumbGrid:
        grid = cls(
            float(raw["interval"]),
            int(raw["count"]),
            int(raw["columns"]),
            int(raw["width"]),
            int(raw["height"]),
        )
        if min(grid.interval, grid.count, grid.columns, grid.width, grid.height) <= 0:
            raise ValueError("a thumbnail grid's numbers must be positive")
        return grid


@dataclass(frozen=True)
class MediaEntry:
    """What was made from one version of one recording."""

    key: str
    source_size: int
    source_version: str  # the store's ETag, or the file's mtime in nanoseconds
    probe: Probe
    poster: str | None = None
    poster_small: str | None = None
    poster_time: float | None = None  # where in the recording the poster was taken
    poster_at: float | None = None  # the catalog's `poster_at` it was made for (None: chosen)
    thumbnails: str | None = None  # the WebVTT thumbnails track
    sprite: str | None = None
    thumb_grid: ThumbGrid | None = None
    downloads: tuple[Download, ...] = ()
    made_at: str = ""
    errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def duration_s(self) -> float:
        return self.probe.duration_s

    def download(self, kind: str) -> Download | None:
        """Return the download of `kind`, if it was made."""
        return next((d for d in self.downloads if d.kind == kind), None)

    @property
    def renditions(self) -> tuple[str, ...]:
        return tuple(d.kind for d in self.downloads if d.kind not in ("original", "audio"))

    def same_source(self, size: int, version: str) -> bool:
        """Tell whether this entry was made from the recording as it is now."""
        return self.source_size == size and self.source_version == version

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready values."""
        return {
            "key": self.key,
            "source": {"size": self.source_size, "version": self.source_version},
            "probe": self.probe.as_dict(),
            "poster": self.poster,
            "poster_small": self.poster_small,
            "poster_time": self.poster_time,
            "poster_at": self.poster_at,
            "thumbnails": self.thumbnails,
            "sprite": self.sprite,
            "thumb_grid": self.thumb_grid.as_dict() if self.thumb_grid else None,
            "downloads": [d.as_dict() for d in self.downloads],
            "made_at": self.made_at,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> MediaEntry:
        """Read an entry; ValueError (or KeyError, TypeError) when it is not a valid one."""

        def key_or_none(value: Any) -> str | None:
            return None if value is None else safe_key(str(value))

        def seconds(value: Any) -> float | None:
            return None if value is None else float(value)

        downloads = []
        for d in raw.get("downloads") or ():
            if d["kind"] not in DOWNLOAD_KINDS:
                raise ValueError(f"unknown download kind {d['kind']!r}")
            downloads.append(
                Download(
                    str(d["kind"]),
                    safe_key(str(d["key"])),
                    str(d["mime"]),
                    int(d["bytes"]),
                    str(d.get("label") or ""),
                )
            )
        probe = Probe.from_dict(raw["probe"])
        if not probe.duration_s > 0:
            raise ValueError("a recording's duration must be positive")
        return cls(
            key=safe_key(str(raw["key"])),
            source_size=int(raw["source"]["size"]),
            source_version=str(raw["source"]["version"]),
            probe=probe,
            poster=key_or_none(raw.get("poster")),
            poster_small=key_or_none(raw.get("poster_small")),
            poster_time=seconds(raw.get("poster_time")),
            poster_at=seconds(raw.get("poster_at")),
            thumbnails=key_or_none(raw.get("thumbnails")),
            sprite=key_or_none(raw.get("sprite")),
            thumb_grid=ThumbGrid.from_dict(raw["thumb_grid"]) if raw.get("thumb_grid") else None,
            downloads=tuple(downloads),
            made_at=str(raw.get("made_at") or ""),
        )


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
