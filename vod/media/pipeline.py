"""`vod media`: probe every recording in the store and make what the site offers beside it.

Production behaviour (issue #14): a recording whose size and version (ETag or mtime) match its
entry is skipped, so a second run does no work; outputs are made in a temporary folder and
published one whole file at a time, then the entry is written, so an interrupted run leaves
nothing half-written and loses no finished talk; talks run in parallel (`jobs`), and a corrupt
file fails alone, named, while the others go on.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vod.errors import StorageUnavailable
from vod.media.entry import Download, MediaEntry, ThumbGrid
from vod.media.keys import MANIFEST_KEY, RENDITIONS, OutputKeys, output_keys
from vod.media.make import (
    THUMB_HEIGHT,
    THUMB_WIDTH,
    make_audio,
    make_poster,
    make_rendition,
    make_thumbnails,
)
from vod.media.manifest import MediaManifest, entry_json, read_entry
from vod.media.store import MediaStore, SourceStat
from vod.media.tools import MediaError, Probe, probe
from vod.progress import FileBars

if TYPE_CHECKING:
    from vod.catalog import Talk

log = logging.getLogger(__name__)

Status = Literal["made", "skipped", "missing", "external", "failed"]
# How much of a file's bar each step fills (a rendition encodes, the others mostly decode).
WEIGHTS = {"thumbnails": 1.0, "poster": 0.2, "audio": 1.0, "rendition": 4.0}
_CODECS = {
    "h264": "H.264",
    "hevc": "H.265",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "aac": "AAC",
    "opus": "Opus",
    "mp3": "MP3",
    "vorbis": "Vorbis",
    "flac": "FLAC",
}
_CONTAINERS = {".mp4": "MP4", ".m4v": "MP4", ".webm": "WebM", ".mkv": "MKV", ".mov": "MOV"}


@dataclass(frozen=True)
class MediaOptions:
    """What `vod media` was asked to do."""

    force: bool = False
    renditions: tuple[str, ...] = ()
    jobs: int = 1


@dataclass(frozen=True)
class TalkOutcome:
    """What happened to one talk's recording."""

    slug: str
    key: str | None
    status: Status
    detail: str = ""
    entry: MediaEntry | None = None
    seconds: float = 0.0


@dataclass
class MediaReport:
    """Every talk's outcome, and whether the combined manifest was rewritten."""

    outcomes: list[TalkOutcome] = field(default_factory=list)
    manifest_written: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    def lines(self) -> list[str]:
        """Say what happened: failures first, with the file, then a summary."""
        out = [
            f"failed: {o.slug}: {o.key}: {o.detail}" for o in self.outcomes if o.status == "failed"
        ]
        out += [
            f"missing: {o.slug}: no recording at {o.key}"
            for o in self.outcomes
            if o.status == "missing"
        ]
        out.append(
            f"{self.count('made')} processed, {self.count('skipped')} unchanged (skipped), "
            f"{self.count('missing')} not in the store, {self.count('external')} external, "
            f"{self.count('failed')} failed."
        )
        return out


def codec_label(name: str | None) -> str:
    return _CODECS.get(name or "", (name or "?").upper())


def format_label(key: str, probe: Probe) -> str:
    """Describe a file for people: `MP4 · H.264/AAC · 1920×1080`."""
    container = _CONTAINERS.get(Path(key).suffix.lower(), Path(key).suffix.lstrip(".").upper())
    codecs = "/".join(
        codec_label(c) for c in (probe.video_codec, probe.audio_codec) if c is not None
    )
    parts = [container or "file", codecs]
    if probe.width and probe.height:
        parts.append(f"{probe.width}×{probe.height}")
    return " · ".join(p for p in parts if p)


def load_manifest(store: MediaStore) -> MediaManifest:
    """Read the combined manifest from the store (empty when there is none yet)."""
    try:
        text = store.read_text(MANIFEST_KEY)
    except ValueError as exc:  # too large or not UTF-8
        log.warning("ignoring the media manifest: %s", exc)
        return MediaManifest()
    return MediaManifest.from_json(text) if text else MediaManifest()


class _Job:
    """One recording's work: what to make, the bar to move, and the entry it gives."""

    def __init__(
        self,
        store: MediaStore,
        talk: Talk,
        keys: OutputKeys,
        stat: SourceStat,
        old: MediaEntry | None,
        options: MediaOptions,
        bars: FileBars,
    ) -> None:
        self.store = store
        self.talk = talk
        self.keys = keys
        self.stat = stat
        self.old = old
        self.options = options
        self.bars = bars
        fresh = old is not None and old.same_source(stat.size, stat.version) and not options.force
        self.poster_at = (
            float(talk.recording.poster_at) if talk.recording.poster_at is not None else None
        )
        self.everything = not fresh
        self.poster = self.everything or (old is not None and old.poster_at != self.poster_at)
        have = old.renditions if old is not None and fresh else ()
        # A rendition is never larger than the original: once the source's height is known,
        # one it is too small for is not asked for again on every run.
        height = old.probe.height if old is not None and fresh else None
        self.renditions = tuple(
            r
            for r in options.renditions
            if r not in have and (height is None or height > RENDITIONS[r])
        )
        self._weight_done = 0.0
        self._total = (
            (WEIGHTS["thumbnails"] + WEIGHTS["poster"] if self.poster else 0.0)
            + (WEIGHTS["audio"] if self.everything else 0.0)
            + WEIGHTS["rendition"] * len(self.renditions)
        )

    @property
    def needed(self) -> bool:
        return self.poster or self.everything or bool(self.renditions)

    def _step(self, weight: float) -> Callable[[float], None]:
        start = self._weight_done
        self._weight_done += weight

        def report(fraction: float) -> None:
            self.bars.update(self.keys.recording, (start + weight * fraction) / self._total)

        return report

    def run(self) -> MediaEntry:
        """Make what is needed in a temporary folder, publish it, then write the entry."""
        key = self.keys.recording
        with tempfile.TemporaryDirectory(prefix="vod-media-") as tmp:
            folder = Path(tmp)
            source = self.store.local_copy(key, folder, self.keys.suffix)
            info = probe(source)
            entry = self.old if self.old is not None and not self.everything else None
            if entry is None:
                original = Download(
                    "original",
                    key,
                    self.talk.recording.media_type,
                    self.stat.size,
                    format_label(key, info),
                )
                entry = MediaEntry(
                    key, self.stat.size, self.stat.version, info, downloads=(original,)
                )
            if self.poster and info.has_video:
                entry = self._thumbnails_and_poster(source, info, folder, entry)
            elif self.poster:
                self._step(WEIGHTS["thumbnails"] + WEIGHTS["poster"])
            if self.everything and info.has_audio:
                report = self._step(WEIGHTS["audio"])
                audio = make_audio(source, info, folder, report)
                self.store.publish(audio, self.keys.audio, "audio/mp4")
                download = Download(
                    "audio",
                    self.keys.audio,
                    "audio/mp4",
                    audio.stat().st_size,
                    "M4A · AAC · audio only, loudness-normalised",
                )
                entry = _with_download(entry, download)
            for name in self.renditions:
                report = self._step(WEIGHTS["rendition"])
                if not info.has_video or (info.height or 0) <= RENDITIONS[name]:
                    continue  # no upscaling: the original is already this small
                made = make_rendition(source, info, name, folder, report)
                rendition_key = self.keys.rendition(name)
                self.store.publish(made, rendition_key, "video/mp4")
                made_probe = probe(made)
                entry = _with_download(
                    entry,
                    Download(
                        name,
                        rendition_key,
                        "video/mp4",
                        made.stat().st_size,
                        format_label(rendition_key, made_probe),
                    ),
                )
        entry = replace(entry, made_at=datetime.now(UTC).isoformat(timespec="seconds"))
        # Written last: an entry names only outputs that are already published whole.
        self.store.write_text(self.keys.sidecar, entry_json(entry), "application/json")
        return entry

    def _thumbnails_and_poster(
        self, source: Path, info: Probe, folder: Path, entry: MediaEntry
    ) -> MediaEntry:
        sprite_name = self.keys.sprite.rsplit("/", 1)[-1]
        thumbs = make_thumbnails(
            source, info, folder, sprite_name, self._step(WEIGHTS["thumbnails"])
        )
        report = self._step(WEIGHTS["poster"])
        poster = make_poster(source, info, folder, thumbs.frames, self.poster_at)
        report(1.0)
        self.store.publish(thumbs.sprite, self.keys.sprite, "image/jpeg")
        self.store.publish(thumbs.vtt, self.keys.thumbnails, "text/vtt")
        self.store.publish(poster.large, self.keys.poster, "image/jpeg")
        self.store.publish(poster.small, self.keys.poster_small, "image/jpeg")
        return replace(
            entry,
            poster=self.keys.poster,
            poster_small=self.keys.poster_small,
            poster_time=round(poster.at, 3),
            poster_at=self.poster_at,
            thumbnails=self.keys.thumbnails,
            sprite=self.keys.sprite,
            thumb_grid=ThumbGrid(
                thumbs.interval, thumbs.count, thumbs.columns, THUMB_WIDTH, THUMB_HEIGHT
            ),
        )


def _with_download(entry: MediaEntry, download: Download) -> MediaEntry:
    kept = tuple(d for d in entry.downloads if d.kind != download.kind)
    order = ("original", "audio", *RENDITIONS)
    downloads = sorted((*kept, download), key=lambda d: order.index(d.kind))
    return replace(entry, downloads=tuple(downloads))


def _prepare(
    store: MediaStore,
    manifest: MediaManifest,
    talk: Talk,
    options: MediaOptions,
    bars: FileBars,
    stats: Mapping[str, SourceStat | None],
) -> TalkOutcome | _Job:
    """Decide what one talk needs, asking the store as little as possible."""
    rec = talk.recording
    if rec.url or rec.key is None:
        return TalkOutcome(talk.slug, None, "external", "an external recording: nothing to make")
    try:
        keys = output_keys(rec.key)
    except ValueError as exc:
        return TalkOutcome(talk.slug, rec.key, "failed", str(exc))
    stat = stats[keys.recording] if keys.recording in stats else store.stat(keys.recording)
    if stat is None:
        return TalkOutcome(talk.slug, rec.key, "missing")
    old = manifest.get(keys.recording)
    if old is None or not old.same_source(stat.size, stat.version):
        # An interrupted run wrote entries beside recordings but not the combined manifest.
        text = store.read_text(keys.sidecar)
        side = read_entry(text) if text else None
        if side is not None and side.key == keys.recording:
            old = side
    job = _Job(store, talk, keys, stat, old, options, bars)
    if not job.needed:
        return TalkOutcome(talk.slug, rec.key, "skipped", entry=old)
    return job


def _run_job(job: _Job) -> TalkOutcome:
    key = job.keys.recording
    started = time.monotonic()
    job.bars.start(key)
    try:
        entry = job.run()
    except (MediaError, StorageUnavailable, ValueError, OSError) as exc:
        outcome = TalkOutcome(job.talk.slug, key, "failed", str(exc))
        job.bars.finish(key, f"failed: {exc}")
        return outcome
    seconds = time.monotonic() - started
    job.bars.finish(key, f"done in {seconds:.1f} s")
    return TalkOutcome(job.talk.slug, key, "made", entry=entry, seconds=seconds)


def process_talks(
    store: MediaStore,
    talks: Iterable[Talk],
    options: MediaOptions,
    *,
    bars: Callable[[str, int], FileBars] = FileBars,
) -> MediaReport:
    """Process the recordings of `talks` and update the combined manifest when it changed."""
    manifest = load_manifest(store)
    report = MediaReport()
    jobs: list[_Job] = []
    seen: set[str] = set()
    progress = bars("Processing recordings", 0)
    talks = list(talks)
    # One listing of the store rather than a HEAD per talk: a run over 21,700 unchanged talks
    # must take seconds, not minutes.
    wanted = []
    for talk in talks:
        if talk.recording.key is not None and not talk.recording.url:
            with contextlib.suppress(ValueError):  # reported per talk below
                wanted.append(output_keys(talk.recording.key).recording)
    try:
        stats = store.stats(wanted)
    except StorageUnavailable as exc:
        log.warning("cannot list the store (%s); asking for each recording instead", exc)
        stats = {}
    for talk in talks:
        key = talk.recording.key
        if key is not None and not talk.recording.url:
            if key in seen:  # two talks on one recording: made once
                continue
            seen.add(key)
        try:
            prepared = _prepare(store, manifest, talk, options, progress, stats)
        except StorageUnavailable as exc:
            report.outcomes.append(TalkOutcome(talk.slug, key, "failed", str(exc)))
            continue
        if isinstance(prepared, _Job):
            jobs.append(prepared)
        else:
            report.outcomes.append(prepared)
    progress.total = len(jobs)
    if jobs:
        with ThreadPoolExecutor(
            max_workers=max(1, options.jobs), thread_name_prefix="vod-media"
        ) as pool:
            # ffmpeg does the work in its own processes; these threads only wait for it.
            report.outcomes.extend(pool.map(_run_job, jobs))
        progress.close()
    entries = [o.entry for o in report.outcomes if o.entry is not None]
    updated = manifest.merged(entries)
    if updated.to_json() != manifest.to_json() or (entries and not manifest.entries):
        store.write_text(MANIFEST_KEY, updated.to_json(), "application/json")
        report.manifest_written = True
    return report
