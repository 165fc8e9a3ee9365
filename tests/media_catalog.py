"""A small catalog for the media tests (`vod media`, `vod upload`), written into a test's folder.

Imported by test modules as `from media_catalog import ...`.
"""

from __future__ import annotations

from pathlib import Path

EVENT = "mediaconf"
CATALOG = """\
event:
  slug: mediaconf
  name: MediaConf
  start_date: 2025-05-05
  timezone: UTC
talks:
  - slug: black-start
    title: A talk that starts in black
    start: "10:00"
    end: "10:30"
  - slug: chosen-poster
    title: The organiser chose the poster frame
    recording: {poster_at: 1}
  - slug: quiet-talk
    title: A quiet recording
    recording: {duration: "1:00:00"}
  - slug: broken-talk
    title: A corrupt upload
  - slug: not-uploaded
    title: Not in the store yet
  - slug: elsewhere
    title: An external recording
    recording: {url: "https://videos.example.org/elsewhere.mp4"}
"""


def write_catalog(folder: Path) -> Path:
    """Write the media test catalog; return its file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mediaconf.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


def key(slug: str) -> str:
    """The store key of a talk's recording (the default one)."""
    return f"{EVENT}/{slug}.mp4"
