"""`vod import pyvideo`: a pyvideo-shaped folder (and a .tar.gz of it) into catalog files.

tests/data/pyvideo/README.md says what each copied record is there for.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import DATA

from vod.catalog import Catalog, load_catalog
from vod.cli import main
from vod.importers.merge import STATE_FILE
from vod.importers.pyvideo import import_pyvideo, schema_problem

SOURCE = DATA / "pyvideo"
LEMBURG_2014 = "advanced-database-programming-with-python"
# The file's name made into a slug, cut at 80 characters on a word boundary.
LEMBURG_2022 = "choosing-the-right-database-for-your-next-project-presented-by-marc-andre"


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yaml"))}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Catalog]:
    out = tmp_path_factory.mktemp("pyvideo-out")
    import_pyvideo(SOURCE, out)
    return out, load_catalog(out)


def test_one_file_per_event_and_a_shared_speakers_file(imported: tuple[Path, Catalog]) -> None:
    out, _ = imported
    assert sorted(files(out)) == [
        "bostonpy.yaml",
        "chicago-djangonauts.yaml",
        "chipy.yaml",
        "djangocon-2014.yaml",
        "djangocon-2015.yaml",
        "djangocong-toulouse-2012.yaml",
        "en-attendant-pyconfr-2020-2021.yaml",
        "europython-2014.yaml",
        "europython-2022.yaml",
        "pyohio-2014.yaml",
        "speakers.yaml",
    ]


def test_talk_fields_are_kept(imported: tuple[Path, Catalog]) -> None:
    _, catalog = imported
    talk = catalog.talk(LEMBURG_2014)
    assert talk.title == "Advanced Database Programming with Python"
    assert talk.abstract is not None and talk.abstract.startswith("The Python DB-API 2.0")
    assert talk.date is not None and talk.date.isoformat() == "2014-07-25"
    assert talk.start is None
    assert talk.language == "eng"
    assert talk.tags == ()
    assert talk.recording.url == "https://www.youtube.com/watch?v=LyJ3evnz2Xw"
    assert talk.recording.duration is None
    assert talk.recording.poster == "https://i.ytimg.com/vi/LyJ3evnz2Xw/hqdefault.jpg"
    assert talk.recording.key is None
    assert talk.guid is not None and len(talk.guid) == 36
    assert catalog.talk("asynchronous-vs-threaded-python").tags == (
        "asynchronous",
        "chipy",
        "gil",
        "threads",
    )
    event = catalog.event("europython-2014")
    assert event.name == "EuroPython 2014"
    assert (event.start_date.isoformat(), event.end_date.isoformat()) == ("2014-07-25",) * 2
    assert event.description is not None and "EuroPython" in event.description
    links = catalog.talk("django-pour-les-faineants-le-retour").links
    assert [link.title for link in links] == ["Conference schedule", "Talk slides"]


@pytest.mark.parametrize(
    ("slug", "url"),
    [
        ("boston-python-meetup-how-to-test-the-hard-stuff", "http://vimeo.com/11980200"),
        (
            "asynchronous-vs-threaded-python",
            "https://archive.org/details/pyvideo_589___asynchronous-vs-threaded-python",
        ),
        (
            "django-pour-les-faineants-le-retour",
            "http://www.toulibre.org/pub/2012-11-24-capitole-du-libre/videos/"
            "agopian-django-pour-les-faineants.mp4",
        ),
        # Several videos: YouTube plays, the others become links.
        ("upgrading-django", "https://www.youtube.com/watch?v=DvDX94_x1bk"),
        ("bash-trucs-astuces-mdk", "https://www.youtube.com/watch?v=GJsdFHcVT3g"),
    ],
)
def test_external_recordings(imported: tuple[Path, Catalog], slug: str, url: str) -> None:
    _, catalog = imported
    assert catalog.talk(slug).recording.url == url


def test_other_videos_become_links(imported: tuple[Path, Catalog]) -> None:
    _, catalog = imported
    links = {link.title: link.url for link in catalog.talk("bash-trucs-astuces-mdk").links}
    assert links["Video (peertube)"] == (
        "https://bittube.video/videos/watch/bc21c871-50a8-4002-bb00-0d57ad607527"
    )
    assert links["Video (mp4)"].startswith("https://dl.afpy.org/")


def test_one_identity_per_speaker_across_events(imported: tuple[Path, Catalog]) -> None:
    _, catalog = imported
    # "Marc-Andre Lemburg" (2014) and "Marc-André Lemburg" (2022): one speaker.
    assert catalog.talk(LEMBURG_2014).speakers == ("marc-andre-lemburg",)
    assert catalog.talk(LEMBURG_2022).speakers == ("marc-andre-lemburg",)
    assert [t.slug for t in catalog.speaker_talks("marc-andre-lemburg")] == [
        LEMBURG_2022,
        LEMBURG_2014,
    ]
    assert catalog.talk("asynchronous-vs-threaded-python").speakers == ()


def test_slug_colliding_with_another_events_talk_is_made_unique(
    imported: tuple[Path, Catalog],
) -> None:
    _, catalog = imported
    by_event = {t.event: t.slug for t in catalog.talks.values() if t.title == "Lightning Talks"}
    assert by_event == {
        "djangocon-2014": "lightning-talks",
        "djangocon-2015": "lightning-talks-djangocon-2015",
    }


def test_broken_and_unpublished_records_are_reported_and_skipped(tmp_path: Path) -> None:
    report = import_pyvideo(SOURCE, tmp_path)
    assert report.skipped == [
        ("pyohio-2014/videos/broken-no-videos.json", "required field 'videos' is missing"),
        (
            "pyohio-2014/videos/not-json.json",
            "not valid JSON (Expecting value: line 2 column 1 (char 49))",
        ),
    ]
    assert report.unpublished == [
        ("pyohio-2014/videos/diversity-in-tech.json", "id 2845 is in NO_PUBLISH.json")
    ]
    assert (report.events, report.talks) == (10, 10)
    assert [t for t in load_catalog(tmp_path).talks if "diversity" in t] == []


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([], "a talk record is a JSON object, not list"),
        ({"title": "x"}, "required field 'description' is missing"),
        (
            {
                "title": "x",
                "description": None,
                "speakers": [],
                "recorded": "May 2019",
                "videos": [],
            },
            "'recorded' must be a date like 2019-05-03, not 'May 2019'",
        ),
        (
            {"title": "x", "description": None, "speakers": [], "recorded": None, "videos": []},
            "'videos' must list at least one video",
        ),
        (
            {
                "title": "x",
                "description": None,
                "speakers": ["A", "A"],
                "recorded": None,
                "videos": [{"type": "youtube", "url": "https://youtu.be/x"}],
            },
            "'speakers' lists a name twice",
        ),
        (
            {
                "title": "x",
                "description": None,
                "speakers": [],
                "recorded": None,
                "duration": "long",
                "videos": [{"type": "youtube", "url": "https://youtu.be/x"}],
            },
            "'duration' must be a whole number or null, not 'long'",
        ),
    ],
)
def test_schema_problems(record: object, reason: str) -> None:
    assert schema_problem(record) == reason


def test_a_whole_number_written_as_a_float_passes_the_schema() -> None:
    record = {
        "title": "x",
        "description": None,
        "speakers": [],
        "recorded": "2019-05-03T11:30:00",
        "duration": 1005.0,
        "videos": [{"type": "youtube", "url": "https://youtu.be/x"}],
    }
    assert schema_problem(record) is None


def test_tar_gz_gives_the_same_files_as_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "pyvideo-data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(SOURCE, arcname="data-main")  # a top folder, as GitHub's archives have
    from_folder, from_archive = tmp_path / "a", tmp_path / "b"
    import_pyvideo(SOURCE, from_folder)
    report = import_pyvideo(archive, from_archive)
    assert files(from_folder) == files(from_archive)
    assert report.skipped[0][0] == "pyohio-2014/videos/broken-no-videos.json"


def test_reimport_of_the_same_source_changes_nothing(tmp_path: Path) -> None:
    import_pyvideo(SOURCE, tmp_path)
    before = files(tmp_path)
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.yaml")}
    report = import_pyvideo(SOURCE, tmp_path)
    assert files(tmp_path) == before
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.yaml")} == mtimes
    assert (report.written, report.new_talks, report.new_speakers) == ([], 0, 0)
    # Without the import's state file the YAML files are read: still byte-identical.
    (tmp_path / STATE_FILE).unlink()
    import_pyvideo(SOURCE, tmp_path)
    assert files(tmp_path) == before


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_reimport_updates_upstream_and_keeps_local_edits(tmp_path: Path) -> None:
    source, out = tmp_path / "source", tmp_path / "out"
    shutil.copytree(SOURCE, source)
    import_pyvideo(source, out)

    def organizer(data: dict[str, Any]) -> None:  # edits made by hand in vod
        talk = data["talks"][0]
        assert talk["slug"] == LEMBURG_2014
        talk["slug"] = "advanced-db-programming"
        talk["former_slugs"] = [LEMBURG_2014]
        talk["kind"] = "workshop"
        talk["recording_speakers"] = ["marc-andre-lemburg", "tracy-osborn"]
        talk["recording"]["key"] = "europython-2014/advanced-db.mp4"
        talk["recording"]["chapters"] = [{"start": 60, "title": "DB-API"}]

    _edit(out / "europython-2014.yaml", organizer)
    # Upstream, the title and the tags change.
    record = source / "europython-2014" / "videos" / f"{LEMBURG_2014}.json"
    text = record.read_text(encoding="utf-8")
    record.write_text(
        text.replace("Advanced Database Programming with Python", "Advanced DB Programming")
        .replace('"tags": []', '"tags": ["databases"]')
        .replace('"duration": null', '"duration": 2561'),
        encoding="utf-8",
    )
    report = import_pyvideo(source, out)
    assert report.written == [str(out / "europython-2014.yaml")]
    talk = load_catalog(out).talk("advanced-db-programming")
    assert talk.title == "Advanced DB Programming"  # upstream wins on its own fields
    assert talk.tags == ("databases",)
    assert talk.former_slugs == (LEMBURG_2014,)  # vod's own fields are kept
    assert talk.kind == "workshop"
    assert talk.recording_speakers == ("marc-andre-lemburg", "tracy-osborn")
    assert talk.recording.key == "europython-2014/advanced-db.mp4"
    assert talk.recording.url is None  # the organizer moved the video into the store
    assert [c.title for c in talk.recording.chapters] == ["DB-API"]
    assert talk.recording.duration == 2561
    # And importing once more changes nothing.
    again = files(out)
    assert import_pyvideo(source, out).written == []
    assert files(out) == again


def test_an_assigned_slug_is_kept_when_a_colliding_talk_arrives_later(tmp_path: Path) -> None:
    source, out = tmp_path / "source", tmp_path / "out"
    source.mkdir()
    shutil.copytree(SOURCE / "djangocon-2015", source / "djangocon-2015")
    import_pyvideo(source, out)
    assert "lightning-talks" in load_catalog(out).talks  # 2015 got the plain slug first
    shutil.copytree(SOURCE / "djangocon-2014", source / "djangocon-2014")
    import_pyvideo(source, out)
    by_event = {t.event: t.slug for t in load_catalog(out).talks.values()}
    assert by_event == {
        "djangocon-2015": "lightning-talks",  # permalinks never break
        "djangocon-2014": "lightning-talks-djangocon-2014",
    }


def test_a_talk_removed_upstream_is_removed_and_a_hand_made_one_kept(tmp_path: Path) -> None:
    source, out = tmp_path / "source", tmp_path / "out"
    shutil.copytree(SOURCE, source)
    import_pyvideo(source, out)

    def add_talk(data: dict[str, Any]) -> None:
        data["talks"].append({"slug": "pyohio-2014-closing", "title": "Closing remarks"})

    _edit(out / "pyohio-2014.yaml", add_talk)
    (source / "pyohio-2014" / "videos" / "a-gentle-introduction-to-asyncio.json").unlink()
    report = import_pyvideo(source, out)
    slugs = [t.slug for t in load_catalog(out).event_talks("pyohio-2014")]
    assert slugs == ["pyohio-2014-closing"]
    assert any("a-gentle-introduction-to-asyncio" in note for note in report.notes)


def test_an_alias_merges_a_speaker_on_reimport(tmp_path: Path) -> None:
    import_pyvideo(SOURCE, tmp_path)
    assert "tracy-osborn" in load_catalog(tmp_path).speakers

    def alias(data: dict[str, Any]) -> None:
        for speaker in data["speakers"]:
            if speaker["slug"] == "julien-palard":
                speaker["aliases"] = ["Tracy Osborn"]  # not true: a test of the mechanism

    _edit(tmp_path / "speakers.yaml", alias)
    report = import_pyvideo(SOURCE, tmp_path)
    catalog = load_catalog(tmp_path)
    assert "tracy-osborn" not in catalog.speakers
    assert "julien-palard" in catalog.talk("lightning-talks-djangocon-2015").speakers
    assert any("tracy-osborn" in note for note in report.notes)
    # The merged speaker's links keep working (issue #14): /speakers/tracy-osborn redirects.
    assert catalog.speaker("julien-palard").former_slugs == ("tracy-osborn",)
    assert catalog.speaker_redirect_for("tracy-osborn") == "julien-palard"
    again = import_pyvideo(SOURCE, tmp_path)
    assert not again.written and again.new_speakers == 0
    assert load_catalog(tmp_path).speaker_redirect_for("tracy-osborn") == "julien-palard"


def test_cli_import_reports_and_writes_a_loadable_catalog(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["import", "pyvideo", str(SOURCE), "--out", str(out), "--index-dir", str(tmp_path / "ix")],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "skipped: pyohio-2014/videos/broken-no-videos.json: required field 'videos' is missing"
        in lines
    )
    assert any(line.startswith("Imported 10 event(s), 10 talk(s)") for line in lines)
    assert len(load_catalog(out).talks) == 10


def test_cli_import_refuses_a_source_that_is_not_pyvideo(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    result = CliRunner().invoke(main, ["import", "pyvideo", str(bogus), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a tar archive" in result.output or "cannot read the archive" in result.output
