"""Make a recording's poster, seek preview, audio-only and smaller renditions with ffmpeg.

Each function reads a local file and writes into a folder of its own; nothing here touches the
store, so a failed or interrupted step leaves nothing published (see pipeline.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vod.media.keys import RENDITIONS
from vod.media.tools import INPUT_OPTIONS, MediaError, Probe, file_arg, run_ffmpeg

Progress = Callable[[float], None]

POSTER_WIDTH = 1280  # the player's poster
POSTER_SMALL_WIDTH = 480  # cards and lists
THUMB_WIDTH, THUMB_HEIGHT = 160, 90  # one seek-preview thumbnail
SPRITE_COLUMNS = 10
MAX_THUMBS = 200  # one sprite sheet: 10 x 20 thumbnails is 1600 x 1800 pixels
MIN_THUMB_INTERVAL = 1.0
# Frame statistics are taken on tiny grey copies of the frames: 32 x 18 bytes each.
STATS_WIDTH, STATS_HEIGHT = 32, 18
# A frame is "uniform" (black, white, a fade, a blank slide) when it barely varies.
MIN_STDDEV = 10.0
MIN_MEAN, MAX_MEAN = 24.0, 235.0
# Where a talk's poster is looked for first: intros, sponsor slates and fades come before.
POSTER_FROM = 0.1
POSTER_TRIES = 3
# EBU R128 loudness for spoken-word podcasts (Apple and most apps aim at -16 LUFS).
LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"
AUDIO_BITRATE = "96k"


def step_timeout(duration: float, factor: float, floor: float = 120.0) -> float:
    """A generous bound for one ffmpeg step on a recording of `duration` seconds."""
    return max(floor, duration * factor)


@dataclass(frozen=True)
class FrameStats:
    """The brightness of one small grey frame: its mean and its spread."""

    at: float
    mean: float
    stddev: float

    @property
    def uniform(self) -> bool:
        return self.stddev < MIN_STDDEV or not MIN_MEAN <= self.mean <= MAX_MEAN


def frame_stats(data: bytes, at: float) -> FrameStats:
    """Measure one raw 8-bit grey frame."""
    if not data:
        return FrameStats(at, 0.0, 0.0)
    mean = sum(data) / len(data)
    variance = sum((b - mean) ** 2 for b in data) / len(data)
    return FrameStats(at, mean, math.sqrt(variance))


def _read_frames(path: Path, interval: float) -> list[FrameStats]:
    size = STATS_WIDTH * STATS_HEIGHT
    data = path.read_bytes() if path.exists() else b""
    return [
        frame_stats(data[i : i + size], (i // size) * interval)
        for i in range(0, len(data) - size + 1, size)
    ]


@dataclass(frozen=True)
class Thumbnails:
    """A seek-preview sprite, its WebVTT track, and the statistics of every thumbnail."""

    sprite: Path
    vtt: Path
    interval: float
    count: int
    frames: tuple[FrameStats, ...]
    columns: int = SPRITE_COLUMNS


def thumb_interval(duration: float) -> float:
    """Seconds between thumbnails: one sheet of at most MAX_THUMBS covers the recording."""
    return float(max(MIN_THUMB_INTERVAL, math.ceil(duration / MAX_THUMBS)))


def _clock(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def thumbnails_vtt(sprite_name: str, count: int, interval: float, duration: float) -> str:
    """Write the WebVTT thumbnails track: one cue per thumbnail, `sprite#xywh=x,y,w,h`."""
    lines = ["WEBVTT", ""]
    for i in range(count):
        start = i * interval
        if start >= duration:
            break
        # The last thumbnail stands for the rest of the recording.
        end = duration if i == count - 1 else min((i + 1) * interval, duration)
        x = (i % SPRITE_COLUMNS) * THUMB_WIDTH
        y = (i // SPRITE_COLUMNS) * THUMB_HEIGHT
        lines += [
            f"{_clock(start)} --> {_clock(end)}",
            f"{sprite_name}#xywh={x},{y},{THUMB_WIDTH},{THUMB_HEIGHT}",
            "",
        ]
    return "\n".join(lines)


def make_thumbnails(
    source: Path, probe: Probe, out: Path, sprite_name: str, progress: Progress | None = None
) -> Thumbnails:
    """Make the seek-preview sprite and its WebVTT track in one decoding pass.

    Only keyframes are decoded (`-skip_frame nokey`): a talk has one every few seconds, which
    is as fine as a seek preview needs, and it is many times faster than decoding every frame.
    The same pass writes tiny grey copies of the thumbnails, from which the poster is chosen.
    """
    interval = thumb_interval(probe.duration_s)
    wanted = min(MAX_THUMBS, max(1, math.ceil(probe.duration_s / interval)))
    rows = math.ceil(wanted / SPRITE_COLUMNS)
    columns = min(SPRITE_COLUMNS, wanted)
    sprite, stats, vtt = out / "thumbs.jpg", out / "stats.gray", out / "thumbs.vtt"
    graph = (
        f"[0:v:0]fps=fps=1/{interval:g}:round=down,split=2[a][b];"
        f"[a]scale={THUMB_WIDTH}:{THUMB_HEIGHT}:force_original_aspect_ratio=decrease,"
        f"pad={THUMB_WIDTH}:{THUMB_HEIGHT}:-1:-1:color=black,"
        f"tile={columns}x{rows}:color=black[s];"
        f"[b]scale={STATS_WIDTH}:{STATS_HEIGHT},format=gray[g]"
    )
    run_ffmpeg(
        [
            "-skip_frame",
            "nokey",
            *INPUT_OPTIONS,
            "-i",
            file_arg(source),
            "-filter_complex",
            graph,
            "-map",
            "[s]",
            "-frames:v",
            "1",
            "-q:v",
            "5",
            "-f",
            "image2",
            file_arg(sprite),
            "-map",
            "[g]",
            "-f",
            "rawvideo",
            file_arg(stats),
        ],
        timeout=step_timeout(probe.duration_s, 0.5),
        duration=probe.duration_s,
        on_progress=progress,
    )
    frames = _read_frames(stats, interval)[: columns * rows]
    if not sprite.exists() or not frames:
        raise MediaError("ffmpeg made no thumbnails: the video stream has no readable frame")
    vtt.write_text(
        thumbnails_vtt(sprite_name, len(frames), interval, probe.duration_s), encoding="utf-8"
    )
    return Thumbnails(sprite, vtt, interval, len(frames), tuple(frames), columns)


def poster_candidates(
    frames: tuple[FrameStats, ...], duration: float, poster_at: float | None
) -> list[float]:
    """Times to try for the poster, best first.

    The catalog's `poster_at` wins. Otherwise frames that are not uniform (black, white, a
    fade) come first, those from a tenth of the way in before earlier ones (intros and slates);
    when every frame is uniform, the one that varies most.
    """
    if poster_at is not None:
        return [min(max(poster_at, 0.0), max(duration - 0.1, 0.0))]
    varied = [f for f in frames if not f.uniform]
    later = [f.at for f in varied if f.at >= duration * POSTER_FROM]
    earlier = [f.at for f in varied if f.at < duration * POSTER_FROM]
    flat = [f.at for f in sorted(frames, key=lambda f: -f.stddev) if f.uniform]
    ordered = later + earlier + flat
    return ordered or [min(duration * POSTER_FROM, max(duration - 0.1, 0.0))]


@dataclass(frozen=True)
class Poster:
    """The poster at two sizes, the moment it shows, and how varied it is."""

    large: Path
    small: Path
    at: float
    stats: FrameStats


def _extract_poster(source: Path, at: float, out: Path, timeout: float) -> Poster:
    large, small, stats = out / "poster.jpg", out / "poster-small.jpg", out / "poster.gray"
    graph = (
        "[0:v:0]split=3[a][b][c];"
        f"[a]scale=w='min({POSTER_WIDTH}\\,iw)':h=-2[p];"
        f"[b]scale=w='min({POSTER_SMALL_WIDTH}\\,iw)':h=-2[q];"
        f"[c]scale={STATS_WIDTH}:{STATS_HEIGHT},format=gray[g]"
    )
    run_ffmpeg(
        [
            # Before -i: seek to the keyframe before `at`, then decode up to it exactly.
            "-ss",
            f"{at:.3f}",
            *INPUT_OPTIONS,
            "-i",
            file_arg(source),
            "-filter_complex",
            graph,
            "-map",
            "[p]",
            "-frames:v",
            "1",
            "-q:v",
            "3",
            "-f",
            "image2",
            file_arg(large),
            "-map",
            "[q]",
            "-frames:v",
            "1",
            "-q:v",
            "4",
            "-f",
            "image2",
            file_arg(small),
            "-map",
            "[g]",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            file_arg(stats),
        ],
        timeout=timeout,
    )
    frames = _read_frames(stats, 0.0)
    if not large.exists() or not small.exists() or not frames:
        raise MediaError(f"ffmpeg made no poster frame at {at:.1f} s")
    return Poster(large, small, at, FrameStats(at, frames[0].mean, frames[0].stddev))


def make_poster(
    source: Path,
    probe: Probe,
    out: Path,
    frames: tuple[FrameStats, ...],
    poster_at: float | None,
) -> Poster:
    """Extract the poster at the best candidate time, checking the real frame as well.

    A thumbnail shows a keyframe, while the poster is the exact frame at its time: when that
    frame turns out uniform, the next candidate is tried.
    """
    best: Poster | None = None
    for at in poster_candidates(frames, probe.duration_s, poster_at)[:POSTER_TRIES]:
        poster = _extract_poster(source, at, out, step_timeout(probe.duration_s, 0.05, 60.0))
        if poster_at is not None or not poster.stats.uniform:
            return poster
        if best is None or poster.stats.stddev > best.stats.stddev:
            best = poster
            # Kept aside: the next attempt writes the same file names.
            for path in (poster.large, poster.small):
                path.replace(path.with_suffix(".best.jpg"))
    assert best is not None
    large, small = best.large.with_suffix(".best.jpg"), best.small.with_suffix(".best.jpg")
    large.replace(best.large)
    small.replace(best.small)
    return best


def make_audio(source: Path, probe: Probe, out: Path, progress: Progress | None = None) -> Path:
    """Make the audio-only rendition: AAC in M4A, loudness-normalised (EBU R128, -16 LUFS).

    AAC/M4A rather than Opus/WebM: every podcast app plays it. loudnorm runs in one pass (its
    dynamic mode), which suits speech and decodes the recording once instead of twice.
    """
    target = out / "audio.m4a"
    run_ffmpeg(
        [
            *INPUT_OPTIONS,
            "-i",
            file_arg(source),
            "-map",
            "0:a:0",
            "-vn",
            "-sn",
            "-dn",
            "-af",
            LOUDNORM,
            "-ar",
            "48000",
            "-c:a",
            "aac",
            "-b:a",
            AUDIO_BITRATE,
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            file_arg(target),
        ],
        timeout=step_timeout(probe.duration_s, 0.5),
        duration=probe.duration_s,
        on_progress=progress,
    )
    return target


def make_rendition(
    source: Path, probe: Probe, name: str, out: Path, progress: Progress | None = None
) -> Path:
    """Make a smaller H.264/AAC MP4 of `name`'s height (`360p`), ready to stream."""
    height = RENDITIONS[name]
    target = out / f"{name}.mp4"
    maps = ["-map", "0:v:0"] + (["-map", "0:a:0"] if probe.has_audio else [])
    run_ffmpeg(
        [
            *INPUT_OPTIONS,
            "-i",
            file_arg(source),
            *maps,
            "-sn",
            "-dn",
            "-vf",
            f"scale=-2:{height}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            file_arg(target),
        ],
        timeout=step_timeout(probe.duration_s, 4.0, 300.0),
        duration=probe.duration_s,
        on_progress=progress,
    )
    return target
