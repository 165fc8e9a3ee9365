"""Importing what a careless or hostile source gives: do_not_record, repeated guids and keys,
deep nesting, and results that would not load (issue #10 item 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_importers_schedule import KEYNOTE_GUID, PANEL_GUID, schedule, write

from vod.catalog import load_catalog
from vod.cli import main
from vod.exporters.schedule import export_schedule
from vod.importers.merge import ImportInvalid, MergeError
from vod.importers.pyvideo import import_pyvideo
from vod.importers.schedule import SourceError, import_schedule

KEYNOTE = "tinycon-2031-101-opening-keynote"


def talks(data: dict[str, Any]) -> list[dict[str, Any]]:
    days = data["schedule"]["conference"]["days"]
    return [t for day in days for room in day["rooms"].values() for t in room]


def test_a_do_not_record_talk_is_imported_without_a_recording(tmp_path: Path) -> None:
    data = schedule()
    keynote = talks(data)[0]
    keynote["do_not_record"] = True
    keynote["links"].append({"url": "https://v.example.org/k.mp4", "type": "recording"})
    out = tmp_path / "out"
    report = import_schedule(str(write(tmp_path / "s.json", data)), out)
    assert [why for _, why in report.unpublished] == [
        "do_not_record: on the agenda, without a recording or feed entry"
    ]
    talk = load_catalog(out).talk(KEYNOTE)
    assert talk.do_not_record and not talk.published
    assert talk.recording.key is None and talk.recording.url is None
    text = (out / "tinycon-2031.yaml").read_text()
    assert "do_not_record: true" in text
    assert import_schedule(str(tmp_path / "s.json"), out).written == []


def test_a_repeated_guid_is_reported_and_imported_once(tmp_path: Path) -> None:
    data = schedule()
    talks(data)[2]["guid"] = KEYNOTE_GUID  # the panel claims the keynote's guid
    report = import_schedule(str(write(tmp_path / "s.json", data)), tmp_path / "out")
    skipped = [(where, why) for where, why in report.skipped if "guid" in why]
    assert len(skipped) == 1
    assert f"guid {KEYNOTE_GUID} repeats that of" in skipped[0][1]
    catalog = load_catalog(tmp_path / "out")
    assert [t.guid for t in catalog.talks.values()].count(KEYNOTE_GUID) == 1
    assert PANEL_GUID not in [t.guid for t in catalog.talks.values()]


def test_repeated_json_keys_are_reported(tmp_path: Path) -> None:
    text = json.dumps(schedule()).replace(
        '"title": "Opening Keynote"', '"title": "Opening Keynote", "title": "Other title"', 1
    )
    source = tmp_path / "s.json"
    source.write_text(text)
    report = import_schedule(str(source), tmp_path / "out")
    assert any("'title' is given twice" in note for note in report.notes)


def test_deeply_nested_json_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "deep.json"
    source.write_text('{"schedule": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(SourceError, match="nested more than 64 levels deep"):
        import_schedule(str(source), tmp_path / "out")
    result = CliRunner().invoke(main, ["import", "schedule", str(source), "--out", "x"])
    assert result.exit_code == 1 and "nested more than" in result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output


def test_a_deeply_nested_pyvideo_record_is_skipped(tmp_path: Path) -> None:
    source = tmp_path / "data" / "tinyconf"
    (source / "videos").mkdir(parents=True)
    (source / "category.json").write_text(json.dumps({"title": "TinyConf"}))
    (source / "videos" / "deep.json").write_text('{"title": ' + "[" * 50_000 + "]" * 50_000 + "}")
    report = import_pyvideo(tmp_path / "data", tmp_path / "out")
    assert any("deep.json" in where and "nested" in why for where, why in report.skipped)


def test_an_import_whose_result_would_not_load_writes_nothing(tmp_path: Path) -> None:
    source = write(tmp_path / "s.json", schedule())
    out = tmp_path / "out"
    import_schedule(str(source), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # The organiser's own file, with a typo the loader refuses.
    (out / "notes.yaml").write_text("speakers:\n  - slug: someone\n    nmae: Someone\n")
    data = schedule()
    talks(data)[0]["title"] = "Opening Keynote, retitled"
    write(source, data)
    with pytest.raises(ImportInvalid) as error:
        import_schedule(str(source), out)
    assert [(Path(p.file).name, p.line, p.field) for p in error.value.problems] == [
        ("notes.yaml", 3, "speakers[0].nmae")
    ]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "notes.yaml"} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging
    result = CliRunner().invoke(main, ["import", "schedule", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert "nothing was written" in result.output and "notes.yaml:3" in result.output


def test_aliases_in_the_output_folder_are_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "s.json", schedule())
    out = tmp_path / "out"
    import_schedule(str(source), out)
    event = out / "tinycon-2031.yaml"
    text = event.read_text()
    edited = text.replace("  language: en\n", "  language: &lang en\n", 1)
    edited = edited.replace("  language: en\n", "  language: *lang\n", 1)
    event.write_text(edited)
    with pytest.raises(MergeError, match=r"tinycon-2031.yaml:\d+: YAML aliases"):
        import_schedule(str(source), out)


def test_do_not_record_survives_export_and_import(tmp_path: Path) -> None:
    first = tmp_path / "first"
    data = schedule()
    talks(data)[0]["do_not_record"] = True
    import_schedule(str(write(tmp_path / "s.json", data)), first)
    exported = export_schedule(load_catalog(first), "tinycon-2031", "https://vod.example.org")
    assert [t["do_not_record"] for t in talks(exported)] == [True, False, False]
    second = tmp_path / "second"
    import_schedule(str(write(tmp_path / "again.json", exported)), second)
    again = load_catalog(second)
    assert [t.do_not_record for t in again.talks.values()] == [True, False, False]
