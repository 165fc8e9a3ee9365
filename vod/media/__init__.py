"""Recordings after the event: probe, poster, seek preview, audio-only and renditions (#14)."""

from vod.media.entry import Download, MediaEntry
from vod.media.keys import MANIFEST_KEY, output_keys
from vod.media.manifest import MediaManifest, with_media
from vod.media.tools import MediaError, Probe

__all__ = [
    "MANIFEST_KEY",
    "Download",
    "MediaEntry",
    "MediaError",
    "MediaManifest",
    "Probe",
    "output_keys",
    "with_media",
]
