"""`vod check`: catalog errors, missing recordings (local and S3), and an unreachable store."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from s3server import PLACEHOLDER, MotoServer, child_env, closed_endpoint, isolate_env, moto_server

from vod.catalog import Catalog
from vod.cli import main

__all__ = ["moto_server"]  # the shared session fixture, imported to be found here

JSON_KEYS = {"ok", "errors", "missing"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_env(monkeypatch, tmp_path)


@pytest.fixture
def expected_missing(bundled_catalog: Catalog) -> list[dict[str, str]]:
    return [
        {"talk": t.slug, "key": f"systems-scale-2024/{t.slug}.mp4"}
        for t in bundled_catalog.talks.values()
    ]


@pytest.fixture
def empty_media(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    monkeypatch.setenv("VOD_MEDIA_DIR", str(media))
    return media


def run_check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run_check("--json", *args)
    return result.exit_code, json.loads(result.stdout)


def fill(media: Path, keys: list[str]) -> None:
    for key in keys:
        (media / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PLACEHOLDER, media / key)


# ---- local media folder ----------------------------------------------------------------------


def test_empty_media_dir_lists_every_talk(
    empty_media: Path, expected_missing: list[dict[str, str]]
) -> None:
    assert len(expected_missing) == 11
    code, out = check_json()
    assert code == 1
    assert set(out) == JSON_KEYS
    assert out["ok"] is False
    assert out["errors"] == []
    assert sorted(out["missing"], key=lambda m: m["talk"]) == sorted(
        expected_missing, key=lambda m: m["talk"]
    )


def test_missing_media_dir_lists_every_talk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected_missing: list[dict[str, str]]
) -> None:
    monkeypatch.setenv("VOD_MEDIA_DIR", str(tmp_path / "never-created"))
    code, out = check_json()
    assert code == 1
    assert len(out["missing"]) == len(expected_missing)


def test_text_mode_names_each_missing_talk(
    empty_media: Path, expected_missing: list[dict[str, str]]
) -> None:
    fill(empty_media, [expected_missing[0]["key"]])
    result = run_check()
    assert result.exit_code == 1
    for m in expected_missing[1:]:
        assert f"missing: {m['talk']}: no recording at {m['key']}" in result.stdout
    assert f"missing: {expected_missing[0]['talk']}:" not in result.stdout
    assert str(empty_media.resolve()) in result.stdout
    assert "0 catalog error(s), 10 missing recording(s)." in result.stdout


def test_all_recordings_present_passes(
    empty_media: Path, expected_missing: list[dict[str, str]]
) -> None:
    fill(empty_media, [m["key"] for m in expected_missing])
    code, out = check_json()
    assert (code, out) == (0, {"ok": True, "errors": [], "missing": []})
    text = run_check()
    assert text.exit_code == 0
    assert text.stdout.startswith("OK: 11 talks, every recording present in local folder")


def test_partly_filled_lists_only_the_rest(
    empty_media: Path, expected_missing: list[dict[str, str]]
) -> None:
    fill(empty_media, [m["key"] for m in expected_missing[:4]])
    code, out = check_json()
    assert code == 1
    assert {m["talk"] for m in out["missing"]} == {m["talk"] for m in expected_missing[4:]}


def test_real_subprocess(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "vod", "check", "--json"],
        cwd=tmp_path,
        env=child_env(VOD_MEDIA_DIR=str(media)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == JSON_KEYS
    assert out["ok"] is False
    assert len(out["missing"]) == 11
    assert all(m["key"] == f"systems-scale-2024/{m['talk']}.mp4" for m in out["missing"])


# ---- a broken catalog ------------------------------------------------------------------------

BROKEN = """\
event:
  slug: broken-2099
  name: Broken Event
  start_date: 2099-06-12
  timezone: America/Los_Angeles
talks:
  - slug: Not A Slug
    title: First
  - slug: second-talk
    kind: keynot
  - title: Third has no slug
    recording:
      key: ../escape.mp4
      duration: soon
  - slug: fourth-talk
    speakers: [nobody-at-all]
  - slug: fifth-talk
    titel: Misspelt field
speakers:
  - slug: somebody
    name: Some Body
"""
SYNTAX = """\
event:
  slug: other
  name: [unclosed
"""


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_broken_catalog_lists_every_problem(
    tmp_path: Path, empty_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "broken.yaml").write_text(BROKEN)
    (catalog / "syntax.yaml").write_text(SYNTAX)
    monkeypatch.setenv("VOD_CATALOG", str(catalog))
    code, out = check_json()
    assert code == 1
    assert set(out) == JSON_KEYS
    assert out["ok"] is False
    assert out["missing"] == []  # storage is not checked against a catalog that does not load
    for err in out["errors"]:
        assert set(err) == {"file", "line", "field", "message"}
        assert isinstance(err["message"], str) and err["message"]
    broken, syntax = str(catalog / "broken.yaml"), str(catalog / "syntax.yaml")
    found = {(e["file"], e["line"], e["field"]) for e in out["errors"]}
    # Every problem, from both files, each located. (The loader also repeats the unknown
    # speaker as talks[3].recording_speakers[0], which the talk never wrote: not asserted.)
    assert found >= {
        (broken, _line(BROKEN, "Not A Slug"), "talks[0].slug"),
        (broken, _line(BROKEN, "keynot"), "talks[1].kind"),
        (broken, _line(BROKEN, "Third has no slug"), "talks[2].slug"),
        (broken, _line(BROKEN, "../escape.mp4"), "talks[2].recording.key"),
        (broken, _line(BROKEN, "soon"), "talks[2].recording.duration"),
        (broken, _line(BROKEN, "nobody-at-all"), "talks[3].speakers[0]"),
        (broken, _line(BROKEN, "titel"), "talks[4].titel"),
        (syntax, 4, "(syntax)"),
    }
    messages = {e["field"]: e["message"] for e in out["errors"]}
    assert "did you mean 'title'" in messages["talks[4].titel"]
    assert "unknown speaker 'nobody-at-all'" in messages["talks[3].speakers[0]"]

    text = run_check()
    assert text.exit_code == 1
    assert sum(line.startswith("error: ") for line in text.stdout.splitlines()) == len(
        out["errors"]
    )
    assert f"error: {broken}:{_line(BROKEN, 'keynot')}: talks[1].kind:" in text.stdout
    assert f"{len(out['errors'])} catalog error(s), 0 missing recording(s)." in text.stdout


def test_catalog_that_does_not_exist(tmp_path: Path, empty_media: Path) -> None:
    code, out = check_json("--catalog", str(tmp_path / "nowhere"))
    assert code == 1
    assert [e["field"] for e in out["errors"]] == ["VOD_CATALOG"]


# ---- S3 --------------------------------------------------------------------------------------


@pytest.mark.s3
def test_s3_missing_then_uploaded(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, expected_missing: list[dict[str, str]]
) -> None:
    bucket = moto_server.new_bucket()
    monkeypatch.setenv("VOD_S3_BUCKET", bucket)
    monkeypatch.setenv("VOD_S3_PREFIX", "talks")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("VOD_S3_TIMEOUT", "5")

    code, out = check_json()
    assert code == 1
    assert set(out) == JSON_KEYS
    assert len(out["missing"]) == 11
    assert {m["key"] for m in out["missing"]} == {m["key"] for m in expected_missing}

    moto_server.upload(bucket, *[f"talks/{m['key']}" for m in expected_missing[:5]])
    code, out = check_json()
    assert code == 1
    assert {m["talk"] for m in out["missing"]} == {m["talk"] for m in expected_missing[5:]}
    text = run_check()
    assert f"s3://{bucket}/talks at {moto_server.endpoint}" in text.stdout
    for m in expected_missing[5:]:
        assert f"missing: {m['talk']}:" in text.stdout

    moto_server.upload(bucket, *[f"talks/{m['key']}" for m in expected_missing[5:]])
    code, out = check_json()
    assert (code, out) == (0, {"ok": True, "errors": [], "missing": []})
    assert run_check().exit_code == 0


@pytest.mark.s3
def test_s3_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOD_S3_BUCKET", "vod-recordings")
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_endpoint())
    monkeypatch.setenv("VOD_S3_TIMEOUT", "0.5")

    code, out = check_json()
    assert code == 1
    assert set(out) == JSON_KEYS | {"unreachable"}
    assert out["ok"] is False
    assert out["missing"] == []  # an unreachable store is not reported as missing recordings
    assert len(out["unreachable"]) == 1
    assert "unreachable" in out["unreachable"][0]["error"]

    text = run_check()
    assert text.exit_code == 1
    assert "unreachable: s3://vod-recordings" in text.stdout
    assert "missing:" not in text.stdout
    assert text.stdout.rstrip().endswith(
        "0 catalog error(s), 0 missing recording(s), storage unreachable."
    )


def test_s3_misconfigured_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOD_S3_BUCKET", "vod-recordings")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not-a-url")
    result = run_check("--json")
    assert result.exit_code == 1
    assert "cannot set up the S3 client" in result.stderr
    assert "Traceback" not in result.output


UNSAFE_URLS = """\
event:
  slug: url-event
  name: URL Event
  start_date: 2024-06-12
  timezone: UTC
talks:
  - slug: idn-peertube
    title: An internationalised PeerTube host
    recording:
      url: https://視頻.example/videos/watch/abcdefgh1234
  - slug: comma-host
    title: A host with a comma
    recording:
      url: https://evil.test,style-src/videos/watch/abcdefgh1234
  - slug: broken-host
    title: Not a host at all
    links: [{title: Slides, url: "https://[/slides.pdf"}]
"""


def test_urls_that_cannot_be_made_safe_are_reported_with_file_and_line(
    tmp_path: Path, empty_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "urls.yaml").write_text(UNSAFE_URLS)
    monkeypatch.setenv("VOD_CATALOG", str(catalog))
    code, out = check_json()
    assert code == 1
    file = str(catalog / "urls.yaml")
    found = {(e["file"], e["line"], e["field"]) for e in out["errors"]}
    # The internationalised host is valid (IDNA-encoded where it reaches a header).
    assert found == {
        (file, _line(UNSAFE_URLS, "evil.test,style-src"), "talks[1].recording.url"),
        (file, _line(UNSAFE_URLS, "https://[/"), "talks[2].links[0].url"),
    }
