"""What `vod media` made from one recording: its entry in the media manifest.

Apart from the manifest (manifest.py) so that the catalog's model can name an entry without
importing the manifest, which reads catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vod.keys import safe_key
from vod.media.tools import Probe

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
