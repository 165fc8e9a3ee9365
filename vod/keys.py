"""Store keys: the one check that a key names a file inside its folder, and nothing else."""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = ["safe_key"]


def safe_key(key: str) -> str:
    """Return `key` normalised, or raise ValueError if it could escape its folder."""
    if not key or "\x00" in key or "\\" in key or key.startswith("/"):
        raise ValueError(f"unsafe store key {key!r}")
    parts = PurePosixPath(key).parts
    # No parts at all: "." or "./" would name the folder itself, not a recording in it.
    if not parts or any(part in ("..", ".") for part in parts):
        raise ValueError(f"unsafe store key {key!r}")
    return "/".join(parts)
