"""`vod import schedule` and `vod export schedule`: pretalx/frab schedule.json, the c3voc schema.

The schedules here are written by the tests, following https://c3voc.de/schedule/schema.json;
every person and talk in them is made up.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner
from conftest import SAMPLE_CATALOG

from vod.catalog import Catalog, load_catalog
from vod.cli import main
from vod.config import BUNDLED_CATALOG
from vod.exporters.schedule import export_schedule
from vod.importers.schedule import SourceError, import_schedule

BERLIN = ZoneInfo("Europe/Berlin")
KEYNOTE_GUID = "5b2e5e8e-0a57-5d6b-9d3a-6a3c1f1f0001"
WORKSHOP_GUID = "5b2e5e8e-0a57-5d6b-9d3a-6a3c1f1f0002"
PANEL_GUID = "5b2e5e8e-0a57-5d6b-9d3a-6a3c1f1f0003"


def person(code: str, name: str, bio: str = "", avatar: str = "") -> dict[str, Any]:
    return {"code": code, "name": name, "biography": bio, "avatar": avatar, "answers": []}


def event(
    guid: str, ident: int, when: str, duration: str, room: str, **fields: Any
) -> dict[str, Any]:
    base = {
        "id": ident,
        "guid": guid,
        "logo": "",
        "date": when,
        "start": when[11:16],
        "duration": duration,
        "room": room,
        "slug": f"tinycon-2031-{ident}-{fields['title'].lower().replace(' ', '-')}",
        "url": f"https://pretalx.example.org/tinycon-2031/talk/CODE{ident}/",
        "subtitle": "",
        "track": None,
        "type": "Talk",
        "language": "en",
        "abstract": "",
        "description": "",
        "recording_license": "",
        "do_not_record": False,
        "persons": [],
        "links": [],
        "attachments": [],
        "answers": [],
    }
    base.update(fields)
    return base


def schedule() -> dict[str, Any]:
    """A pretalx-style schedule.json of a made-up two-day conference in Berlin."""
    ada = person(
        "ADA1", "Ada Testperson", "Writes imaginary compilers.", "https://img.example.org/a.png"
    )
    bo = person("BO22", "Bö Exämple", "Keeps test clusters alive.")
    return {
        "$schema": "https://c3voc.de/schedule/schema.json",
        "generator": {"name": "pretalx", "version": "2024.1.0"},
        "schedule": {
            "version": "1.0",
            "base_url": "https://pretalx.example.org/tinycon-2031/schedule/",
            "conference": {
                "acronym": "tinycon_2031",
                "title": "TinyCon 2031",
                "start": "2031-03-04",
                "end": "2031-03-05",
                "daysCount": 2,
                "timeslot_duration": "00:05",
                "time_zone_name": "Europe/Berlin",
                "url": "https://tinycon.example.org/",
                "rooms": [
                    {"name": "Hall A", "guid": "0c2a3c1e-1111-4b6e-9e8e-000000000001"},
                    {"name": "Room 2", "guid": "0c2a3c1e-1111-4b6e-9e8e-000000000002"},
                ],
                "tracks": [{"name": "Compilers", "color": "#aa0000"}],
                "days": [
                    {
                        "index": 1,
                        "date": "2031-03-04",
                        "day_start": "2031-03-04T04:00:00+01:00",
                        "day_end": "2031-03-05T03:59:00+01:00",
                        "rooms": {
                            "Hall A": [
                                event(
                                    KEYNOTE_GUID,
                                    101,
                                    "2031-03-04T09:30:00+01:00",
                                    "00:45",
                                    "Hall A",
                                    title="Opening Keynote",
                                    type="Keynote",
                                    track="Compilers",
                                    abstract="Why tiny conferences matter.",
                                    description="A longer story about small rooms.",
                                    persons=[ada],
                                    links=[
                                        {
                                            "title": "Slides",
                                            "url": "https://slides.example.org/keynote.pdf",
                                            "type": "related",
                                        }
                                    ],
                                )
                            ],
                            "Room 2": [
                                event(
                                    WORKSHOP_GUID,
                                    102,
                                    "2031-03-04T11:00:00+01:00",
                                    "01:30",
                                    "Room 2",
                                    title="Hands-on Parsing",
                                    type="Workshop",
                                    persons=[ada, bo],
                                )
                            ],
                        },
                    },
                    {
                        "index": 2,
                        "date": "2031-03-05",
                        "day_start": "2031-03-05T04:00:00+01:00",
                        "day_end": "2031-03-06T03:59:00+01:00",
                        "rooms": {
                            "Hall A": [
                                event(
                                    PANEL_GUID,
                                    103,
                                    "2031-03-05T16:00:00+01:00",
                                    "00:30",
                                    "Hall A",
                                    title="Closing Panel",
                                    type="Panel discussion",
                                    language="de",
                                    persons=[bo],
                                )
                            ]
                        },
                    },
                ],
            },
        },
    }


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local http server for the URL case: (base URL, the folder it serves)."""
    folder = tmp_path / "www"
    folder.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_pretalx_schedule_becomes_an_event(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = import_schedule(str(write(tmp_path / "schedule.json", schedule())), out)
    assert (report.events, report.talks, report.new_speakers) == (1, 3, 2)
    catalog = load_catalog(out)
    event = catalog.event("tinycon-2031")
    assert (event.name, event.timezone, event.url) == (
        "TinyCon 2031",
        "Europe/Berlin",
        "https://tinycon.example.org/",
    )
    assert (event.start_date.isoformat(), event.end_date.isoformat()) == (
        "2031-03-04",
        "2031-03-05",
    )
    agenda = [(g.name, [t.title for t in g.talks]) for g in catalog.agenda("tinycon-2031")]
    assert agenda == [  # rooms become sessions, in time order
        ("Hall A", ["Opening Keynote"]),
        ("Room 2", ["Hands-on Parsing"]),
        ("Hall A", ["Closing Panel"]),
    ]
    keynote, workshop, panel = catalog.event_talks("tinycon-2031")
    assert keynote.start == datetime(2031, 3, 4, 9, 30, tzinfo=BERLIN)
    assert keynote.end == datetime(2031, 3, 4, 10, 15, tzinfo=BERLIN)
    assert workshop.end == datetime(2031, 3, 4, 12, 30, tzinfo=BERLIN)
    assert (keynote.kind, workshop.kind, panel.kind) == ("keynote", "workshop", "panel")
    assert keynote.tags == ("Compilers",)  # tracks become tags
    assert keynote.abstract == "Why tiny conferences matter.\n\nA longer story about small rooms."
    assert [(link.title, link.url) for link in keynote.links] == [
        ("Slides", "https://slides.example.org/keynote.pdf")
    ]
    assert (keynote.guid, keynote.code) == (KEYNOTE_GUID, "CODE101")  # the stable keys
    assert (keynote.language, panel.language) == ("en", "de")
    assert keynote.slug == "tinycon-2031-101-opening-keynote"


def test_persons_become_speakers_with_biography_and_avatar(tmp_path: Path) -> None:
    out = tmp_path / "out"
    import_schedule(str(write(tmp_path / "schedule.json", schedule())), out)
    catalog = load_catalog(out)
    ada = catalog.speaker("ada-testperson")
    assert (ada.name, ada.bio, ada.photo) == (
        "Ada Testperson",
        "Writes imaginary compilers.",
        "https://img.example.org/a.png",
    )
    assert catalog.speaker("bo-example").name == "Bö Exämple"
    workshop = catalog.talk("tinycon-2031-102-hands-on-parsing")
    assert workshop.speakers == ("ada-testperson", "bo-example")


def test_import_from_a_url(
    tmp_path: Path, served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOD_FETCH_ALLOW", "127.0.0.1")  # the test server: an intranet host
    base, folder = served
    write(folder / "schedule.json", schedule())
    out = tmp_path / "out"
    report = import_schedule(f"{base}/schedule.json", out)
    assert report.talks == 3
    assert len(load_catalog(out).talks) == 3
    with pytest.raises(SourceError, match="cannot fetch"):
        import_schedule(f"{base}/missing.json", tmp_path / "other")


def test_a_schedule_url_on_an_internal_address_is_refused(
    tmp_path: Path, served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`vod import schedule URL` goes through the one fetch helper (issue #10 item 3)."""
    monkeypatch.delenv("VOD_FETCH_ALLOW", raising=False)
    base, folder = served
    write(folder / "schedule.json", schedule())
    out = tmp_path / "out"
    with pytest.raises(SourceError, match="loopback address; refused"):
        import_schedule(f"{base}/schedule.json", out)
    assert not out.exists()
    result = CliRunner().invoke(
        main, ["import", "schedule", f"{base}/schedule.json", "--out", str(out)]
    )
    assert result.exit_code == 1 and "refused" in result.output


def test_reimport_is_idempotent_and_keeps_local_edits(tmp_path: Path) -> None:
    source, out = tmp_path / "schedule.json", tmp_path / "out"
    write(source, schedule())
    import_schedule(str(source), out)
    first = (out / "tinycon-2031.yaml").read_bytes()
    assert import_schedule(str(source), out).written == []
    assert (out / "tinycon-2031.yaml").read_bytes() == first

    data = yaml.safe_load(first)
    talk = data["talks"][0]
    talk["slug"] = "tinycon-keynote"
    talk["former_slugs"] = ["tinycon-2031-101-opening-keynote"]
    talk["recording_speakers"] = ["bo-example"]
    talk["recording"] = {"key": "tinycon/keynote.mp4", "chapters": [{"start": 5, "title": "Hi"}]}
    (out / "tinycon-2031.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")

    newer = schedule()
    hall = newer["schedule"]["conference"]["days"][0]["rooms"]["Hall A"]
    hall[0]["title"] = "Opening Keynote (updated)"
    hall[0]["slug"] = "tinycon-2031-101-opening-keynote-updated"
    import_schedule(str(write(source, newer)), out)
    talk_now = load_catalog(out).talk("tinycon-keynote")
    assert talk_now.title == "Opening Keynote (updated)"
    assert talk_now.former_slugs == ("tinycon-2031-101-opening-keynote",)
    assert talk_now.recording_speakers == ("bo-example",)
    assert talk_now.recording.key == "tinycon/keynote.mp4"
    assert [c.title for c in talk_now.recording.chapters] == ["Hi"]


def test_a_schedule_without_a_conference_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no schedule\.conference"):
        import_schedule(str(write(tmp_path / "x.json", {"schedule": {}})), tmp_path / "out")
    broken = schedule()
    broken["schedule"]["conference"]["days"][0]["rooms"]["Hall A"][0]["date"] = "soon"
    report = import_schedule(str(write(tmp_path / "y.json", broken)), tmp_path / "out")
    assert report.talks == 2
    assert report.skipped[0][1] == "'date' is not a date and time: 'soon'"


# ---- export ---------------------------------------------------------------------------------

REQUIRED_EVENT_FIELDS = {
    "abstract",
    "date",
    "duration",
    "guid",
    "id",
    "language",
    "links",
    "persons",
    "room",
    "slug",
    "start",
    "subtitle",
    "title",
    "track",
    "type",
    "url",
}


@pytest.fixture(scope="module")
def sample() -> Catalog:
    return load_catalog(SAMPLE_CATALOG)


def test_export_follows_the_c3voc_schema(sample: Catalog) -> None:
    data = export_schedule(sample, "testconf-2024", "https://vod.example.org")
    conference = data["schedule"]["conference"]
    assert set(data) == {"$schema", "generator", "schedule"}
    assert {"title", "acronym", "days", "daysCount", "start", "end", "timeslot_duration"} <= set(
        conference
    )
    assert conference["acronym"] == "testconf_2024"
    assert [d["date"] for d in conference["days"]] == ["2024-05-14", "2024-05-15"]
    events = [e for d in conference["days"] for room in d["rooms"].values() for e in room]
    assert [e["slug"] for e in events] == [
        "testconf-2024-keynote",
        "observability-for-rubber-ducks",
        "distributed-storage-without-tears",
        "streaming-from-elsewhere",
    ]
    for entry in events:
        assert set(entry) >= REQUIRED_EVENT_FIELDS, entry["slug"]
        assert isinstance(entry["id"], int) and entry["id"] >= 1
    keynote = events[0]
    assert (keynote["date"], keynote["start"], keynote["duration"], keynote["room"]) == (
        "2024-05-14T09:00:00-04:00",
        "09:00",
        "00:30",
        "Opening",
    )
    assert [p["name"] for p in keynote["persons"]] == ["Ada Example", "Chloé Sample"]


def test_export_links_carry_permalink_player_and_recording(sample: Catalog) -> None:
    data = export_schedule(sample, "testconf-2024", "https://vod.example.org/")
    days = data["schedule"]["conference"]["days"]
    entries = {e["slug"]: e for d in days for room in d["rooms"].values() for e in room}
    links = {link["title"]: link["url"] for link in entries["streaming-from-elsewhere"]["links"]}
    assert links["Permalink"] == "https://vod.example.org/talks/streaming-from-elsewhere"
    assert links["Player"] == "https://vod.example.org/embed/streaming-from-elsewhere"
    assert links["Recording"] == (
        "https://videos.example.org/testconf-2024/streaming-from-elsewhere.m3u8"
    )


def _same(a: Catalog, b: Catalog) -> None:
    events_a = {k: dataclasses.replace(v, source="") for k, v in a.events.items()}
    events_b = {k: dataclasses.replace(v, source="") for k, v in b.events.items()}
    assert events_a == events_b
    assert dict(a.speakers) == dict(b.speakers)
    assert dict(a.talks) == dict(b.talks)
    assert dict(a.redirects) == dict(b.redirects)


def test_export_then_import_gives_the_same_catalog(tmp_path: Path, sample: Catalog) -> None:
    out = tmp_path / "out"
    for slug in sample.events:
        data = export_schedule(sample, slug, "https://vod.example.org")
        import_schedule(str(write(tmp_path / f"{slug}.json", data)), out)
    _same(sample, load_catalog(out))


def test_export_then_import_keeps_speakers_of_no_talk(tmp_path: Path) -> None:
    # The bundled catalog lists 21 speakers; 11 of them are attached to no talk (issue #14:
    # "21 become 10").
    bundled = load_catalog(BUNDLED_CATALOG)
    unattached = [s for s in bundled.speakers if not bundled.speaker_talks(s)]
    assert len(bundled.speakers) == 21 and len(unattached) == 11
    out = tmp_path / "out"
    data = export_schedule(bundled, "systems-scale-2024", "https://vod.example.org")
    import_schedule(str(write(tmp_path / "bundled.json", data)), out)
    _same(bundled, load_catalog(out))
    again = import_schedule(str(write(tmp_path / "bundled.json", data)), out)
    assert again.new_speakers == 0 and not again.written  # and importing again changes nothing


def test_export_then_import_of_an_imported_catalog(tmp_path: Path) -> None:
    first = tmp_path / "first"
    import_schedule(str(write(tmp_path / "schedule.json", schedule())), first)
    imported = load_catalog(first)
    exported = export_schedule(imported, "tinycon-2031", "https://vod.example.org")
    second = tmp_path / "second"
    import_schedule(str(write(tmp_path / "again.json", copy.deepcopy(exported))), second)
    _same(imported, load_catalog(second))


def test_cli_export_and_import(tmp_path: Path) -> None:
    runner = CliRunner()
    index = str(tmp_path / "ix")
    common = ["--catalog", str(SAMPLE_CATALOG), "--index-dir", index]
    refused = runner.invoke(main, ["export", "schedule", *common, "--event", "testconf-2024"])
    assert refused.exit_code == 1 and "VOD_BASE_URL" in refused.output
    result = runner.invoke(
        main,
        ["export", "schedule", *common, "--event", "testconf-2024", "--base-url", "https://x.org"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["schedule"]["conference"]["title"] == "TestConf 2024"
    folder = tmp_path / "exports"
    folder.mkdir()
    result = runner.invoke(
        main, ["export", "schedule", *common, "--base-url", "https://x.org", "--out", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "testconf-2023.schedule.json",
        "testconf-2024.schedule.json",
    ]
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            "import",
            "schedule",
            str(folder / "testconf-2023.schedule.json"),
            "--out",
            str(out),
            "--index-dir",
            index,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Imported 1 event(s), 3 talk(s) (3 new)" in result.output


def test_two_sources_in_one_event_keep_each_others_talks(tmp_path: Path) -> None:
    from conftest import DATA

    from vod.importers.pyvideo import import_pyvideo

    out = tmp_path / "out"
    import_pyvideo(DATA / "pyvideo", out)
    extra = schedule()
    conference = extra["schedule"]["conference"]
    conference["acronym"] = "djangocon_2015"  # the same event as pyvideo's djangocon-2015
    conference["days"] = conference["days"][1:]  # only the closing panel, on 2031-03-05
    import_schedule(str(write(tmp_path / "schedule.json", extra)), out)
    import_pyvideo(DATA / "pyvideo", out)  # pyvideo again: the schedule's talk stays
    catalog = load_catalog(out)
    assert {t.title for t in catalog.event_talks("djangocon-2015")} == {
        "Lightning Talks",
        "Closing Panel",
    }
    event = catalog.event("djangocon-2015")  # its dates stretch over both sources' talks
    assert (event.start_date.isoformat(), event.end_date.isoformat()) == (
        "2015-09-18",
        "2031-03-05",
    )


def test_export_then_import_keeps_poster_at(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "conf.yaml").write_text(
        "event: {slug: conf, name: Conf, start_date: 2025-05-05, timezone: UTC}\n"
        "talks:\n"
        "  - {slug: one, title: One, start: '10:00', end: '10:30', recording: {poster_at: 754}}\n"
    )
    catalog = load_catalog(folder)
    out = tmp_path / "out"
    data = export_schedule(catalog, "conf", "https://vod.example.org")
    import_schedule(str(write(tmp_path / "conf.json", data)), out)
    assert load_catalog(out).talk("one").recording.poster_at == 754
