"""`vod media` on a long 1080p recording: poster, seek-preview sprite and audio-only (#14).

Generates a talk-like clip with ffmpeg (1920x1080, 25 fps, H.264 with a keyframe every 2 s as
streaming encoders write it, AAC stereo), then measures, on it:
- each step alone: ffprobe, thumbnails (sprite + WebVTT), poster, audio-only (loudnorm + AAC);
- the whole pipeline as `vod media` runs it (local store, one job): wall time, and the CPU
  time of the ffmpeg processes;
and compares the wall time with the clip's duration (target: at most 0.25x on 2 cores).
The machine's load average is printed before and after: on a shared machine it matters.

Usage:
    python bench/bench_media.py [--minutes 10] [--workdir /tmp/vod-bench-media] [--runs 1]
The clip is kept in the work folder and reused by the next run (delete it to make a new one).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vod.catalog import load_catalog  # noqa: E402
from vod.media.make import make_audio, make_poster, make_thumbnails  # noqa: E402
from vod.media.pipeline import MediaOptions, process_talks  # noqa: E402
from vod.media.store import LocalMediaStore  # noqa: E402
from vod.media.tools import Probe, probe  # noqa: E402
from vod.storage import LocalStorage  # noqa: E402

CATALOG = """\
event: {slug: bench, name: Bench, start_date: 2025-01-01, timezone: UTC}
talks:
  - {slug: long-talk, title: A long talk}
"""


def make_clip(path: Path, minutes: float) -> None:
    """Write a 1080p talk-like recording: moving test pattern, tone and noise."""
    seconds = minutes * 60
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=25:d={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=220:sample_rate=48000:duration={seconds}",
            "-f", "lavfi", "-i", f"anoisesrc=color=pink:a=0.05:r=48000:d={seconds}",
            "-filter_complex", "[1:a][2:a]amix=inputs=2,aformat=channel_layouts=stereo[a]",
            "-map", "0:v", "-map", "[a]",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
            str(path),
        ],
        check=True,
    )  # fmt: skip


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, work, results: dict[str, list[tuple[float, float]]]):  # type: ignore[no-untyped-def]
    cpu, wall = children_cpu(), time.perf_counter()
    value = work()
    results.setdefault(label, []).append((time.perf_counter() - wall, children_cpu() - cpu))
    return value


def one_run(clip: Path, info: Probe, results: dict[str, list[tuple[float, float]]]) -> None:
    """Time each step alone, then the whole pipeline, into `results`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        timed("probe", lambda: probe(clip), results)
        thumbs = timed(
            "thumbnails (sprite + vtt)", lambda: make_thumbnails(clip, info, out, "x.jpg"), results
        )
        timed("poster", lambda: make_poster(clip, info, out, thumbs.frames, None), results)
        timed("audio-only (loudnorm, AAC)", lambda: make_audio(clip, info, out), results)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "catalog.yaml").write_text(CATALOG)
        target = folder / "media" / "bench" / "long-talk.mp4"
        target.parent.mkdir(parents=True)
        try:
            os.link(clip, target)  # the same bytes without copying a large file
        except OSError:
            shutil.copyfile(clip, target)
        catalog = load_catalog(folder / "catalog.yaml")
        store = LocalMediaStore(LocalStorage(folder / "media"))
        report = timed(
            "whole pipeline (vod media, 1 job)",
            lambda: process_talks(store, list(catalog.talks.values()), MediaOptions()),
            results,
        )
        assert report.count("made") == 1, report.lines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vod-bench-media"))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    clip = args.workdir / f"clip-{args.minutes:g}min-1080p.mp4"
    if not clip.exists():
        print(f"making {clip} ...", flush=True)
        started = time.perf_counter()
        make_clip(clip, args.minutes)
        print(f"  made in {time.perf_counter() - started:.0f} s", flush=True)
    info = probe(clip)
    print(
        f"clip: {info.duration_s:.0f} s, {info.width}x{info.height} {info.video_codec}/"
        f"{info.audio_codec}, {info.size / 1e6:.0f} MB; cores: {os.cpu_count()}; "
        f"load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    results: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        one_run(clip, info, results)
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    print(f"| step | wall s (median of {args.runs}) | ffmpeg CPU s | wall / duration |")
    print("|---|---|---|---|")
    for label, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"| {label} | {wall:.1f} | {cpu:.1f} | {wall / info.duration_s:.3f}x |")


if __name__ == "__main__":
    main()
