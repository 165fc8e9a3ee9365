"""Test recordings made with ffmpeg's lavfi sources: real files, a few seconds long.

Imported by test modules as `from clips import ...` (like s3server.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# CI sets VOD_REQUIRE_FFMPEG=1: there, a missing ffmpeg fails the media tests instead.
requires_ffmpeg = pytest.mark.skipif(
    (shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None)
    and os.environ.get("VOD_REQUIRE_FFMPEG") != "1",
    reason="ffmpeg is not installed (apt-get install ffmpeg; scripts/test installs it)",
)


def make_clip(
    path: Path,
    *,
    seconds: float = 4.0,
    black_lead: float = 0.0,
    size: str = "320x180",
    audio: bool = True,
    video: bool = True,
    volume_db: float = 0.0,
    bitrate: str | None = None,
    noise: bool = False,
) -> Path:
    """Write an H.264/AAC MP4: optionally `black_lead` seconds of black, then a test pattern.

    A keyframe every second, as recordings from streaming encoders have.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rest = seconds - black_lead
    pattern = f"testsrc2=s={size}:r=25:d={rest}"
    if noise:  # incompressible frames: a large file from a short clip (multipart uploads)
        pattern = f"nullsrc=s={size}:r=25:d={rest},geq=random(1)*255:128:128"
    inputs: list[str] = []
    if video:
        if black_lead:
            inputs += ["-f", "lavfi", "-i", f"color=black:s={size}:r=25:d={black_lead}"]
        inputs += ["-f", "lavfi", "-i", pattern]
    if audio:
        inputs += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        ]
    args = ["ffmpeg", "-v", "error", "-y", *inputs]
    maps: list[str] = []
    if video:
        if black_lead:
            args += ["-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]"]
            maps += ["-map", "[v]"]
        else:
            maps += ["-map", "0:v"]
        video_args = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"]
        if bitrate:
            video_args += ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate]
    else:
        video_args = []
    if audio:
        index = (2 if black_lead else 1) if video else 0
        maps += ["-map", f"{index}:a"]
        audio_args = ["-c:a", "aac", "-af", f"volume={volume_db}dB"]
    else:
        audio_args = []
    subprocess.run([*args, *maps, *video_args, *audio_args, str(path)], check=True, timeout=120)
    return path


def make_corrupt(path: Path, good: Path) -> Path:
    """Write the first bytes of a good clip: an MP4 with no index (moov), which nothing plays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(good.read_bytes()[:4000])
    return path


def frame_stats(image: Path) -> tuple[float, float]:
    """Return the mean and standard deviation of an image's grey levels (0-255)."""
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(image),
            "-vf",
            "scale=64:36,format=gray",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    mean = sum(raw) / len(raw)
    return mean, (sum((b - mean) ** 2 for b in raw) / len(raw)) ** 0.5


def integrated_loudness(path: Path) -> float:
    """Measure a file's integrated loudness (LUFS) with ffmpeg's ebur128 filter."""
    done = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    summary = done.stderr.rsplit("Integrated loudness:", 1)[1]
    return float(summary.split("I:", 1)[1].split("LUFS", 1)[0])
