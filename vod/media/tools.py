"""Run ffmpeg and ffprobe: argument lists only, never a shell, always under a timeout.

Every path handed to them is one vod made (a temporary file, or a file resolved inside the media
folder), given with the `file:` protocol, so neither a key nor any catalog text can become an
option or name another protocol (`http:`, `concat:`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vod.errors import VodError

PROBE_TIMEOUT = 60.0
# Inputs may only be read from files: a crafted playlist in a "recording" cannot reach the network.
INPUT_OPTIONS = ("-protocol_whitelist", "file")
STDERR_TAIL = 400  # characters of ffmpeg's own words kept in an error message


class MediaError(VodError):
    """A recording could not be processed: unreadable, corrupt, or a tool failed or hung."""


def tool(name: str) -> str:
    """Return the path of `ffmpeg` or `ffprobe`; MediaError says how to install it if missing."""
    found = shutil.which(name)
    if found is None:
        raise MediaError(
            f"{name} is not installed: install Debian's ffmpeg package (apt-get install ffmpeg)"
        )
    return found


def file_arg(path: Path) -> str:
    """Name a local file for ffmpeg so that it can only be read as a plain file."""
    return "file:" + str(path.resolve())


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-3:])[-STDERR_TAIL:] or "no message"


def run_ffmpeg(
    args: list[str],
    *,
    timeout: float,
    duration: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> None:
    """Run ffmpeg with `args` (after its global options), reporting the fraction done.

    ffmpeg writes `-progress` key=value lines to stdout; out_time_us over `duration` is the
    fraction. A run longer than `timeout` seconds is killed and raises MediaError.
    """
    command = [
        tool("ffmpeg"),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-y",
        *args,
    ]
    timed_out = threading.Event()
    errors: list[str] = []
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    ) as process:

        def kill() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(timeout, kill)
        watchdog.daemon = True
        watchdog.start()
        # stderr is drained in a thread: a chatty ffmpeg must not block on a full pipe.
        stderr = process.stderr
        reader = threading.Thread(
            target=lambda: errors.append(stderr.read() if stderr else ""), daemon=True
        )
        reader.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if on_progress is None or not duration or not line.startswith("out_time_us="):
                    continue
                try:
                    done = int(line.split("=", 1)[1]) / 1e6
                except ValueError:  # "N/A" before the first frame
                    continue
                on_progress(min(max(done / duration, 0.0), 1.0))
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=5)
    if timed_out.is_set():
        raise MediaError(f"ffmpeg took longer than {timeout:.0f} s and was stopped")
    if process.returncode != 0:
        raise MediaError(f"ffmpeg failed: {_tail(''.join(errors))}")


@dataclass(frozen=True)
class Probe:
    """What ffprobe says about a recording."""

    duration_s: float
    size: int
    format: str  # the container, as ffprobe names it: "mov,mp4,m4a,3gp,3g2,mj2"
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    bit_rate: int | None = None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    def as_dict(self) -> dict[str, Any]:
        """Return the probe as JSON-ready values."""
        return {
            "duration_s": round(self.duration_s, 3),
            "size": self.size,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "bit_rate": self.bit_rate,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Probe:
        """Read a probe back from `as_dict`'s values."""
        return cls(
            duration_s=float(raw["duration_s"]),
            size=int(raw["size"]),
            format=str(raw.get("format") or ""),
            width=_int(raw.get("width")),
            height=_int(raw.get("height")),
            video_codec=raw.get("video_codec"),
            audio_codec=raw.get("audio_codec"),
            bit_rate=_int(raw.get("bit_rate")),
        )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def probe(path: Path, timeout: float = PROBE_TIMEOUT) -> Probe:
    """Probe a local file with ffprobe; MediaError when it is not a playable recording."""
    command = [
        tool("ffprobe"),
        "-v",
        "error",
        *INPUT_OPTIONS,
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        file_arg(path),
    ]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MediaError(f"ffprobe took longer than {timeout:.0f} s and was stopped") from None
    if done.returncode != 0:
        raise MediaError(f"not a readable recording (ffprobe: {_tail(done.stderr)})")
    try:
        info = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise MediaError("ffprobe gave no readable answer") from None
    fmt = info.get("format") or {}
    streams = info.get("streams") or []
    # Cover art in an audio file is a one-frame "video" stream: not a video.
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = _float(fmt.get("duration"))
    if duration is None:
        durations = [_float(s.get("duration")) for s in (video, audio) if s]
        duration = max((d for d in durations if d), default=None)
    if video is None and audio is None:
        raise MediaError("not a recording: it holds no video or audio stream")
    if not duration or duration <= 0:
        raise MediaError("not a readable recording: ffprobe finds no duration")
    return Probe(
        duration_s=duration,
        size=_int(fmt.get("size")) or path.stat().st_size,
        format=str(fmt.get("format_name") or ""),
        width=_int(video.get("width")) if video else None,
        height=_int(video.get("height")) if video else None,
        video_codec=str(video.get("codec_name")) if video else None,
        audio_codec=str(audio.get("codec_name")) if audio else None,
        bit_rate=_int(fmt.get("bit_rate")),
    )
