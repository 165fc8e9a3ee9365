"""`vod media` and `vod upload` from the command line (CliRunner), on the local media folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from clips import make_clip, make_corrupt, requires_ffmpeg
from media_catalog import key, write_catalog
from s3server import isolate_env

from vod.catalog import load_catalog
from vod.cli import main
from vod.errors import CatalogError
from vod.media import MANIFEST_KEY, MediaManifest, output_keys

pytestmark = requires_ffmpeg


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_env(monkeypatch, tmp_path)
    monkeypatch.setenv("VOD_CATALOG", str(write_catalog(tmp_path / "catalog").parent))
    monkeypatch.setenv("VOD_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("VOD_INDEX_DIR", str(tmp_path / "index"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "talk.mp4", seconds=3)


def vod(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_upload_copies_verifies_processes_and_check_stops_listing_it(
    tmp_path: Path, clip: Path
) -> None:
    before = vod("check", "--json")
    assert {"talk": "black-start", "key": key("black-start")} in json.loads(before.stdout)[
        "missing"
    ]
    result = vod("upload", "black-start", str(clip))
    assert result.exit_code == 0, result.output
    assert "Uploaded and verified mediaconf/black-start.mp4" in result.output
    media = tmp_path / "media"
    assert (media / key("black-start")).read_bytes() == clip.read_bytes()
    assert (media / output_keys(key("black-start")).poster).is_file()
    entry = MediaManifest.from_json((media / MANIFEST_KEY).read_text()).get(key("black-start"))
    assert entry is not None and entry.download("audio") is not None
    after = json.loads(vod("check", "--json").stdout)
    assert key("black-start") not in {m["key"] for m in after["missing"]}


def test_upload_refuses_a_file_that_is_not_a_recording(tmp_path: Path, clip: Path) -> None:
    bad = make_corrupt(tmp_path / "bad.mp4", clip)
    result = vod("upload", "black-start", str(bad))
    assert result.exit_code == 1
    assert "not a readable recording" in result.output
    assert not (tmp_path / "media" / key("black-start")).exists()


def test_upload_refuses_an_external_recording_and_unknown_talks(clip: Path) -> None:
    external = vod("upload", "elsewhere", str(clip))
    assert external.exit_code == 1 and "external recording" in external.output
    unknown = vod("upload", "no-such-talk", str(clip))
    assert unknown.exit_code == 1 and "no talk 'no-such-talk'" in unknown.output


def test_media_command_names_the_corrupt_file_and_exits_1(tmp_path: Path, clip: Path) -> None:
    media = tmp_path / "media"
    (media / "mediaconf").mkdir(parents=True)
    shutil.copyfile(clip, media / key("quiet-talk"))
    make_corrupt(media / key("broken-talk"), clip)
    result = vod("media", "--jobs", "2")
    assert result.exit_code == 1
    assert f"failed: broken-talk: {key('broken-talk')}: not a readable recording" in result.output
    assert "1 processed, 0 unchanged (skipped)" in result.output
    again = vod("media", "--talk", "quiet-talk")
    assert again.exit_code == 0 and "0 processed, 1 unchanged (skipped)" in again.output


def test_media_command_checks_its_options() -> None:
    bad = vod("media", "--renditions", "360p,999p")
    assert bad.exit_code == 1 and "unknown rendition '999p'" in bad.output
    unknown = vod("media", "--talk", "nope")
    assert unknown.exit_code == 1 and "no talk 'nope'" in unknown.output
    assert vod("media", "--jobs", "0").exit_code == 2


def test_poster_at_is_validated(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write_catalog(folder)
    path = folder / "mediaconf.yaml"
    path.write_text(
        path.read_text()
        .replace("{poster_at: 1}", '{poster_at: "10:00", duration: 60}')
        .replace(
            '{url: "https://videos.example.org/elsewhere.mp4"}',
            '{url: "https://videos.example.org/elsewhere.mp4", poster_at: 3}',
        )
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(folder)
    text = str(info.value)
    assert "recording.poster_at: 600 s is not within the recording's duration (60 s)" in text
    assert "not external URLs" in text
    good = load_catalog(write_catalog(tmp_path / "good"))
    assert good.talk("chosen-poster").recording.poster_at == 1
