"""`vod media` on the local media folder: probe, poster, seek preview, audio-only, renditions,
and how it behaves as a production tool (idempotent, resumable, parallel, clear errors)."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from clips import frame_stats, integrated_loudness, make_clip, make_corrupt, requires_ffmpeg
from media_catalog import key, write_catalog

from vod.catalog import Catalog, load_catalog
from vod.media import MANIFEST_KEY, MediaManifest, output_keys, with_media
from vod.media.make import thumb_interval
from vod.media.pipeline import MediaOptions, MediaReport, process_talks
from vod.media.store import LocalMediaStore
from vod.media.tools import MediaError, probe, run_ffmpeg
from vod.storage import LocalStorage

pytestmark = requires_ffmpeg


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Recordings made once per module: a black lead-in, a plain one, a quiet one, a corrupt."""
    folder = tmp_path_factory.mktemp("clips")
    black = make_clip(folder / "black.mp4", seconds=6, black_lead=3)
    plain = make_clip(folder / "plain.mp4", seconds=4, size="640x360")
    quiet = make_clip(folder / "quiet.mp4", seconds=5, volume_db=-25)
    return {
        "black": black,
        "plain": plain,
        "quiet": quiet,
        "corrupt": make_corrupt(folder / "corrupt.mp4", plain),
    }


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return load_catalog(write_catalog(tmp_path / "catalog"))


@pytest.fixture
def media(tmp_path: Path, clips: dict[str, Path]) -> Path:
    """A media folder with four of the six talks' files: one of them corrupt."""
    folder = tmp_path / "media"
    for slug, clip in (
        ("black-start", "black"),
        ("chosen-poster", "black"),
        ("quiet-talk", "quiet"),
        ("broken-talk", "corrupt"),
    ):
        (folder / key(slug)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clips[clip], folder / key(slug))
    return folder


def run(
    catalog: Catalog, media: Path, slugs: tuple[str, ...] = (), **options: object
) -> MediaReport:
    talks = [catalog.talk(s) for s in slugs] if slugs else list(catalog.talks.values())
    return process_talks(
        LocalMediaStore(LocalStorage(media)),
        talks,
        MediaOptions(**options),  # type: ignore[arg-type]
    )


def manifest(media: Path) -> MediaManifest:
    return MediaManifest.from_json((media / MANIFEST_KEY).read_text())


def outcome(report: MediaReport, slug: str) -> tuple[str, str]:
    found = next(o for o in report.outcomes if o.slug == slug)
    return found.status, found.detail


# ---- what it makes -------------------------------------------------------------------------


def test_probe_reads_duration_size_resolution_and_codecs(clips: dict[str, Path]) -> None:
    info = probe(clips["plain"])
    assert info.duration_s == pytest.approx(4.0, abs=0.1)
    assert (info.width, info.height) == (640, 360)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.size == clips["plain"].stat().st_size
    assert "mp4" in info.format


def test_probe_of_a_corrupt_file_is_a_clear_error(clips: dict[str, Path]) -> None:
    with pytest.raises(MediaError, match="not a readable recording"):
        probe(clips["corrupt"])


def test_every_output_is_beside_the_recording(catalog: Catalog, media: Path) -> None:
    report = run(catalog, media, ("black-start",))
    assert outcome(report, "black-start")[0] == "made"
    keys = output_keys(key("black-start"))
    for made in (keys.poster, keys.poster_small, keys.sprite, keys.thumbnails, keys.audio):
        assert (media / made).is_file(), made
    entry = manifest(media).get(key("black-start"))
    assert entry is not None
    assert entry.duration_s == pytest.approx(6.0, abs=0.1)
    assert (entry.probe.width, entry.probe.height) == (320, 180)
    assert [d.kind for d in entry.downloads] == ["original", "audio"]
    original = entry.download("original")
    assert original is not None
    assert original.bytes == (media / key("black-start")).stat().st_size
    assert original.mime == "video/mp4" and original.label == "MP4 · H.264/AAC · 320×180"
    audio = entry.download("audio")
    assert audio is not None and audio.mime == "audio/mp4"
    assert audio.bytes == (media / keys.audio).stat().st_size
    # The sidecar beside the recording holds the same entry as the combined manifest.
    sidecar = json.loads((media / keys.sidecar).read_text())
    assert sidecar == entry.as_dict()


def test_poster_skips_a_black_lead_in_at_two_sizes(catalog: Catalog, media: Path) -> None:
    run(catalog, media, ("black-start",))
    entry = manifest(media).get(key("black-start"))
    assert entry is not None and entry.poster_time is not None
    assert entry.poster_time >= 3.0  # the first three seconds are black
    mean, spread = frame_stats(media / output_keys(key("black-start")).poster)
    assert spread > 20 and mean > 30, (mean, spread)
    large, small = probe(media / entry.poster), probe(media / output_keys(entry.key).poster_small)  # type: ignore[operator]
    assert (large.width, small.width) == (320, 320)  # never upscaled past the original


def test_poster_at_in_the_catalog_chooses_the_frame(catalog: Catalog, media: Path) -> None:
    run(catalog, media, ("chosen-poster",))
    entry = manifest(media).get(key("chosen-poster"))
    assert entry is not None
    assert entry.poster_time == 1.0 and entry.poster_at == 1.0
    mean, _ = frame_stats(media / output_keys(key("chosen-poster")).poster)
    assert mean < 20  # the organiser asked for a frame of the black lead-in: they get it


def test_large_posters_are_scaled_to_two_widths(tmp_path: Path, catalog: Catalog) -> None:
    media = tmp_path / "big"
    make_clip(media / key("black-start"), seconds=2, size="1920x1080", audio=False)
    run(catalog, media, ("black-start",))
    keys = output_keys(key("black-start"))
    assert probe(media / keys.poster).width == 1280
    assert probe(media / keys.poster_small).width == 480
    entry = manifest(media).get(key("black-start"))
    assert entry is not None and entry.download("audio") is None  # no audio stream: no file


def test_seek_preview_sprite_and_webvtt_track(catalog: Catalog, media: Path) -> None:
    run(catalog, media, ("black-start",))
    keys = output_keys(key("black-start"))
    vtt = (media / keys.thumbnails).read_text()
    assert vtt.startswith("WEBVTT\n")
    cues = re.findall(
        r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)",
        vtt,
    )
    assert len(cues) >= 5
    assert cues[0][:2] == ("00:00:00.000", "00:00:01.000")
    assert cues[-1][1] == "00:00:06.000"  # the last cue runs to the end
    assert {c[2] for c in cues} == {"black-start.thumbs.jpg"}  # beside the track
    sprite = probe(media / keys.sprite)
    for _, _, _, x, y, w, h in cues:
        assert int(x) + int(w) <= (sprite.width or 0) and int(y) + int(h) <= (sprite.height or 0)
    assert thumb_interval(3600) == 18.0  # an hour: 200 thumbnails on one sheet


def test_audio_only_is_loudness_normalised(
    catalog: Catalog, media: Path, clips: dict[str, Path]
) -> None:
    run(catalog, media, ("quiet-talk",))
    audio = media / output_keys(key("quiet-talk")).audio
    info = probe(audio)
    assert info.audio_codec == "aac" and info.video_codec is None
    assert info.duration_s == pytest.approx(5.0, abs=0.2)
    assert integrated_loudness(clips["quiet"]) < -40
    assert integrated_loudness(audio) == pytest.approx(-16, abs=3)


def test_renditions_are_made_on_request_never_upscaled(tmp_path: Path, catalog: Catalog) -> None:
    media = tmp_path / "media"
    make_clip(media / key("black-start"), seconds=2, size="640x360")
    report = run(catalog, media, ("black-start",), renditions=("240p", "720p"))
    assert outcome(report, "black-start")[0] == "made"
    entry = manifest(media).get(key("black-start"))
    assert entry is not None
    assert [d.kind for d in entry.downloads] == ["original", "audio", "240p"]
    small = probe(media / output_keys(key("black-start")).rendition("240p"))
    assert small.height == 240 and small.video_codec == "h264"
    assert not (media / output_keys(key("black-start")).rendition("720p")).exists()
    # Asked again, nothing is left to do: 720p would be larger than the original.
    again = run(catalog, media, ("black-start",), renditions=("240p", "720p"))
    assert outcome(again, "black-start")[0] == "skipped"


def test_renditions_are_off_by_default(catalog: Catalog, media: Path) -> None:
    run(catalog, media, ("black-start",))
    assert not list(media.rglob("*p.mp4"))


# ---- production behaviour ------------------------------------------------------------------


def test_second_run_does_no_work(catalog: Catalog, media: Path) -> None:
    first = run(catalog, media)
    assert first.manifest_written
    made = {p: p.stat().st_mtime_ns for p in media.rglob("*") if p.is_file()}
    started = time.monotonic()
    second = run(catalog, media)
    assert time.monotonic() - started < 30  # generous: the machine is shared
    assert second.count("made") == 0
    assert second.count("skipped") == 3
    assert not second.manifest_written
    assert {p: p.stat().st_mtime_ns for p in media.rglob("*") if p.is_file()} == made


def test_a_changed_recording_is_processed_again(
    catalog: Catalog, media: Path, clips: dict[str, Path]
) -> None:
    run(catalog, media, ("black-start",))
    shutil.copyfile(clips["plain"], media / key("black-start"))
    report = run(catalog, media, ("black-start",))
    assert outcome(report, "black-start")[0] == "made"
    entry = manifest(media).get(key("black-start"))
    assert entry is not None and entry.probe.width == 640


def test_force_processes_unchanged_recordings(catalog: Catalog, media: Path) -> None:
    run(catalog, media, ("quiet-talk",))
    assert outcome(run(catalog, media, ("quiet-talk",), force=True), "quiet-talk")[0] == "made"


def test_changing_poster_at_remakes_only_the_poster(
    tmp_path: Path, catalog: Catalog, media: Path
) -> None:
    run(catalog, media, ("chosen-poster",))
    audio = media / output_keys(key("chosen-poster")).audio
    before = audio.stat().st_mtime_ns
    text = (tmp_path / "catalog" / "mediaconf.yaml").read_text()
    (tmp_path / "catalog" / "mediaconf.yaml").write_text(
        text.replace("{poster_at: 1}", "{poster_at: 4}")
    )
    changed = load_catalog(tmp_path / "catalog")
    assert outcome(run(changed, media, ("chosen-poster",)), "chosen-poster")[0] == "made"
    entry = manifest(media).get(key("chosen-poster"))
    assert entry is not None and entry.poster_time == 4.0
    assert audio.stat().st_mtime_ns == before


def test_corrupt_file_is_named_and_the_others_go_on(catalog: Catalog, media: Path) -> None:
    report = run(catalog, media, jobs=2)
    status, detail = outcome(report, "broken-talk")
    assert status == "failed" and "not a readable recording" in detail
    assert any(key("broken-talk") in line for line in report.lines())
    assert not report.ok
    assert {o.slug for o in report.outcomes if o.status == "made"} == {
        "black-start",
        "chosen-poster",
        "quiet-talk",
    }
    assert outcome(report, "not-uploaded")[0] == "missing"
    assert outcome(report, "elsewhere")[0] == "external"
    assert manifest(media).get(key("broken-talk")) is None


def test_interrupted_run_publishes_nothing_half_written(
    catalog: Catalog, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = LocalMediaStore.publish
    calls = 0

    def publish_then_stop(self: LocalMediaStore, path: Path, key: str, *a: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the third file: stop in the middle of copying it

            def interrupt(_: int) -> None:
                raise KeyboardInterrupt

            original(self, path, key, "image/jpeg", interrupt)
        original(self, path, key, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalMediaStore, "publish", publish_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run(catalog, media, ("black-start",))
    keys = output_keys(key("black-start"))
    assert not (media / keys.poster).exists()  # the file being copied: not there at all
    assert not (media / keys.sidecar).exists()  # no entry names outputs that are not there
    assert not [p for p in media.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.setattr(LocalMediaStore, "publish", original)
    assert outcome(run(catalog, media, ("black-start",)), "black-start")[0] == "made"
    assert (media / keys.poster).is_file()


def test_entries_written_before_an_interrupt_are_not_made_again(
    catalog: Catalog, media: Path
) -> None:
    run(catalog, media, ("black-start",))
    (media / MANIFEST_KEY).unlink()  # the run stopped before the combined manifest
    report = run(catalog, media, ("black-start",))
    assert outcome(report, "black-start")[0] == "skipped"
    assert manifest(media).get(key("black-start")) is not None


def test_ffmpeg_runs_under_a_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(MediaError, match="longer than"):
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=d=100000", "-f", "null", "-"], timeout=1.0)
    assert time.monotonic() - started < 60


def test_unsafe_keys_are_refused() -> None:
    for bad in ("../etc/passwd.mp4", "/abs.mp4", "a/../../b.mp4", "_vod/media-manifest.json", ""):
        with pytest.raises(ValueError):
            output_keys(bad)
    keys = output_keys("ev/talk.final.mp4")
    assert keys.poster == "ev/talk.final.poster.jpg"
    assert output_keys("ev/-rf.mp4").suffix == ".mp4"  # a key is never an ffmpeg option


def test_options_never_come_from_catalog_text(tmp_path: Path) -> None:
    # A recording named like an option or a protocol is read as a plain file.
    clip = make_clip(tmp_path / "-i http:x.mp4", seconds=1)
    assert probe(clip).duration_s == pytest.approx(1.0, abs=0.1)


# ---- the catalog reads the manifest --------------------------------------------------------


def test_catalog_gets_durations_and_posters_where_it_gives_none(
    catalog: Catalog, media: Path
) -> None:
    run(catalog, media)
    merged = with_media(catalog, manifest(media))
    talk = merged.talk("black-start")
    assert talk.recording.duration == 6
    assert talk.recording.poster == output_keys(key("black-start")).poster
    assert talk.recording.media is not None
    assert merged.talk("quiet-talk").recording.duration == 3600  # the catalog's own wins
    assert merged.talk("not-uploaded").recording.media is None
    assert merged.digest == catalog.digest
    assert catalog.talk("black-start").recording.duration is None  # not changed in place


def test_manifest_skips_bad_entries(catalog: Catalog, media: Path) -> None:
    run(catalog, media, ("black-start",))
    body = json.loads((media / MANIFEST_KEY).read_text())
    body["recordings"]["../escape.mp4"] = {"key": "../escape.mp4"}
    body["recordings"]["x.mp4"] = {"key": "x.mp4", "probe": {"duration_s": -1}}
    loaded = MediaManifest.from_json(json.dumps(body))
    assert list(loaded.entries) == [key("black-start")]
    assert len(MediaManifest.from_json("not json")) == 0
