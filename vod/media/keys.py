"""Where `vod media` puts what it makes: keys derived from the recording's own key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from vod.keys import safe_key

# Smaller video renditions `--renditions` may ask for: name -> frame height.
RENDITIONS = {"240p": 240, "360p": 360, "480p": 480, "720p": 720, "1080p": 1080}
# The combined manifest that the site loads once (one read, not one per talk).
MANIFEST_KEY = "_vod/media-manifest.json"
# A recording's suffix becomes a temporary file's: letters and digits only.
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


@dataclass(frozen=True)
class OutputKeys:
    """The keys of everything made from one recording, beside it in the store."""

    recording: str
    stem: str  # the recording's key without its suffix

    @property
    def poster(self) -> str:
        return f"{self.stem}.poster.jpg"

    @property
    def poster_small(self) -> str:
        return f"{self.stem}.poster-small.jpg"

    @property
    def sprite(self) -> str:
        return f"{self.stem}.thumbs.jpg"

    @property
    def thumbnails(self) -> str:
        return f"{self.stem}.thumbs.vtt"

    @property
    def audio(self) -> str:
        return f"{self.stem}.audio.m4a"

    @property
    def sidecar(self) -> str:
        """The recording's own manifest entry: what was made, from which version of it."""
        return f"{self.stem}.media.json"

    def rendition(self, name: str) -> str:
        """Return the key of a smaller rendition (`360p`)."""
        if name not in RENDITIONS:
            raise ValueError(f"unknown rendition {name!r}")
        return f"{self.stem}.{name}.mp4"

    @property
    def suffix(self) -> str:
        """The recording's suffix if it is a plain one (`.mp4`), else `.bin`."""
        suffix = PurePosixPath(self.recording).suffix
        return suffix.lower() if _SUFFIX.fullmatch(suffix) else ".bin"

    def is_output(self, key: str) -> bool:
        """Tell whether `key` is one of the files made from this recording."""
        return key.startswith(self.stem + ".") and key != self.recording


def output_keys(recording_key: str) -> OutputKeys:
    """Derive the output keys of a recording; ValueError for a key that is not safe."""
    key = safe_key(recording_key)
    if key == MANIFEST_KEY or key.startswith("_vod/"):
        raise ValueError(f"{recording_key!r} is in vod's own folder of the store")
    path = PurePosixPath(key)
    stem = str(path.with_suffix("")) if path.suffix else key
    return OutputKeys(key, stem)


def parse_renditions(text: str | None) -> tuple[str, ...]:
    """Read `360p,720p` into rendition names, smallest first; ValueError names a bad one."""
    if not text:
        return ()
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in RENDITIONS]
    if unknown:
        raise ValueError(f"unknown rendition {unknown[0]!r}; choose from {', '.join(RENDITIONS)}")
    return tuple(sorted(set(names), key=RENDITIONS.__getitem__))
