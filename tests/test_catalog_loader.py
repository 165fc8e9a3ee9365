"""Loading catalogs: the sample catalog's model, and every problem located by file, line, field."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest
from conftest import SAMPLE_CATALOG

from vod.catalog import (
    Caption,
    Catalog,
    Chapter,
    Link,
    Recording,
    catalog_files,
    default_recording_key,
    load_catalog,
    validate_catalog,
)
from vod.errors import (
    CatalogError,
    CatalogProblem,
    EventNotFound,
    SpeakerNotFound,
    TalkNotFound,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def sample() -> Catalog:
    return load_catalog(SAMPLE_CATALOG)


# ---- the sample catalog -----------------------------------------------------------------------


def test_sample_catalog_files_in_stable_order() -> None:
    assert [p.name for p in catalog_files(SAMPLE_CATALOG)] == [
        "speakers.yaml",
        "testconf-2023.yaml",
        "testconf-2024.yaml",
    ]


def test_sample_catalog_counts(sample: Catalog) -> None:
    assert list(sample.events) == ["testconf-2023", "testconf-2024"]
    assert len(sample.talks) == 8
    assert list(sample.speakers) == [
        "ada-example",
        "jose-muller-test",
        "bob-placeholder",
        "chloe-sample",
        "unnamed-test-speaker",
    ]
    assert [t.slug for t in sample.talks.values() if t.event == "testconf-2023"] == [
        "continuous-deployment-for-imaginary-services",
        "escaping-untrusted-text",
        "testconf-2023-lightning-talks",
    ]
    assert len(sample.digest) == 16
    assert sample.digest == load_catalog(SAMPLE_CATALOG).digest  # stable between loads


def test_sample_events(sample: Catalog) -> None:
    old, new = sample.event("testconf-2023"), sample.event("testconf-2024")
    assert (old.name, old.start_date, old.end_date, old.timezone) == (
        "TestConf 2023",
        date(2023, 9, 21),
        date(2023, 9, 21),
        "Europe/Berlin",
    )
    assert old.location == "Nowhere Hall, Testville"
    assert old.url == "https://example.org/testconf-2023/"
    assert old.source == str(SAMPLE_CATALOG / "testconf-2023.yaml")
    assert (new.name, new.start_date, new.end_date, new.timezone) == (
        "TestConf 2024",
        date(2024, 5, 14),
        date(2024, 5, 15),
        "America/New_York",
    )
    assert new.location is None
    assert new.year == 2024
    assert [e.slug for e in sample.events_newest_first()] == ["testconf-2024", "testconf-2023"]


def test_agenda_orders_timed_talks_by_start_then_untimed_in_file_order(sample: Catalog) -> None:
    # testconf-2024.yaml lists storage, keynote, open discussion, observability, streaming.
    assert [t.slug for t in sample.event_talks("testconf-2024")] == [
        "testconf-2024-keynote",
        "observability-for-rubber-ducks",
        "distributed-storage-without-tears",
        "streaming-from-elsewhere",
        "testconf-2024-open-discussion",
    ]
    assert [t.slug for t in sample.event_talks("testconf-2023")] == [
        "continuous-deployment-for-imaginary-services",
        "escaping-untrusted-text",
        "testconf-2023-lightning-talks",
    ]
    assert [t.position for t in sample.event_talks("testconf-2024")] == [1, 3, 0, 4, 2]


def test_agenda_groups_consecutive_sessions(sample: Catalog) -> None:
    groups = [(g.name, [t.slug for t in g.talks]) for g in sample.agenda("testconf-2024")]
    assert groups == [
        ("Opening", ["testconf-2024-keynote", "observability-for-rubber-ducks"]),
        ("Day two", ["distributed-storage-without-tears", "streaming-from-elsewhere"]),
        (None, ["testconf-2024-open-discussion"]),
    ]
    sizes = [(g.name, len(g.talks)) for g in sample.agenda("testconf-2023")]
    assert sizes == [("Morning", 2), (None, 1)]


def test_talk_times_are_local_to_the_event(sample: Catalog) -> None:
    keynote = sample.talk("testconf-2024-keynote")
    assert keynote.start == datetime(2024, 5, 14, 9, 0, tzinfo=NEW_YORK)
    assert keynote.end == datetime(2024, 5, 14, 9, 30, tzinfo=NEW_YORK)
    assert keynote.start.utcoffset() == timedelta(hours=-4)  # EDT
    storage = sample.talk("distributed-storage-without-tears")  # second day, written in full
    assert storage.start == datetime(2024, 5, 15, 10, 0, tzinfo=NEW_YORK)
    assert storage.end == datetime(2024, 5, 15, 10, 30, tzinfo=NEW_YORK)
    deploy = sample.talk("continuous-deployment-for-imaginary-services")
    assert deploy.start == datetime(2023, 9, 21, 9, 0, tzinfo=BERLIN)
    assert deploy.start.utcoffset() == timedelta(hours=2)  # CEST
    for slug in ("testconf-2023-lightning-talks", "testconf-2024-open-discussion"):
        assert (sample.talk(slug).start, sample.talk(slug).end) == (None, None)


def test_redirects_map_former_slugs_to_current(sample: Catalog) -> None:
    assert dict(sample.redirects) == {
        "keynote-2024": "testconf-2024-keynote",
        "testing-in-production": "testconf-2024-keynote",
    }
    assert sample.talk("testconf-2024-keynote").former_slugs == (
        "keynote-2024",
        "testing-in-production",
    )
    assert sample.redirect_for("keynote-2024") == "testconf-2024-keynote"
    assert sample.redirect_for("testconf-2024-keynote") is None
    assert sample.redirect_for("nope") is None


def test_recording_key_defaults_to_event_and_talk(sample: Catalog) -> None:
    explicit = {
        "continuous-deployment-for-imaginary-services": "testconf-2023/continuous-deployment.mp4",
        "streaming-from-elsewhere": None,  # external
    }
    for talk in sample.talks.values():
        expected = explicit.get(talk.slug, f"{talk.event}/{talk.slug}.mp4")
        assert talk.recording.key == expected, talk.slug
    assert default_recording_key("testconf-2024", "x") == "testconf-2024/x.mp4"
    plain = sample.talk("escaping-untrusted-text").recording
    assert plain == Recording(key="testconf-2023/escaping-untrusted-text.mp4")
    assert plain.media_type == "video/mp4"
    assert plain.url is None


def test_external_recording(sample: Catalog) -> None:
    recording = sample.talk("streaming-from-elsewhere").recording
    assert recording.url == (
        "https://videos.example.org/testconf-2024/streaming-from-elsewhere.m3u8"
    )
    assert recording.key is None
    assert recording.media_type == "application/vnd.apple.mpegurl"
    assert recording.duration == 2580


def test_recording_details(sample: Catalog) -> None:
    talk = sample.talk("continuous-deployment-for-imaginary-services")
    assert talk.recording == Recording(
        key="testconf-2023/continuous-deployment.mp4",
        media_type="video/mp4",
        duration=2700,
        poster="testconf-2023/continuous-deployment.jpg",
        captions=(
            Caption(lang="en", label="English", key="testconf-2023/continuous-deployment.en.vtt"),
        ),
        # Written 1200, 0, "5:30" in the file: sorted by start, and 5:30 read as 330 s.
        chapters=(Chapter(0, "Welcome"), Chapter(330, "Canary checks"), Chapter(1200, "Rollbacks")),
    )
    assert talk.links == (
        Link("Slides", "https://example.org/testconf-2023/continuous-deployment-slides.pdf"),
    )
    assert talk.tags == ("deployment", "ci")
    assert talk.kind == "keynote"
    assert talk.session == "Morning"
    assert talk.duration == 2700  # the recording's length wins over the 45-minute slot


def test_duration_falls_back_to_the_slot(sample: Catalog) -> None:
    assert sample.talk("testconf-2024-keynote").duration == 30 * 60
    assert sample.talk("testconf-2024-open-discussion").duration is None


def test_recording_speakers_default_to_speakers(sample: Catalog) -> None:
    differ = {
        t.slug: (t.speakers, t.recording_speakers)
        for t in sample.talks.values()
        if t.recording_speakers_differ
    }
    assert differ == {
        "observability-for-rubber-ducks": (
            ("bob-placeholder", "chloe-sample"),
            ("bob-placeholder", "jose-muller-test"),
        )
    }
    for talk in sample.talks.values():
        if talk.slug not in differ:
            assert talk.recording_speakers == talk.speakers, talk.slug
    assert sample.talk("testconf-2024-keynote").speakers == ("ada-example", "chloe-sample")
    assert sample.talk("testconf-2024-open-discussion").speakers == ()


def test_untitled_talk_and_unnamed_speaker(sample: Catalog) -> None:
    talk = sample.talk("testconf-2023-lightning-talks")
    assert talk.title is None
    assert talk.display_title == "Title not published"
    assert talk.kind == "lightning"
    assert talk.session is None
    assert talk.abstract == "Five minute talks about rubber ducks, flaky tests and other friends."
    speaker = sample.speaker("unnamed-test-speaker")
    assert speaker.name is None
    assert speaker.display_name == "Name not published"
    assert speaker.bio == "A speaker whose name is not published."


def test_text_keeps_html_and_quotes_verbatim(sample: Catalog) -> None:
    talk = sample.talk("escaping-untrusted-text")
    assert talk.title == 'Escaping "Untrusted" <Text>'
    assert talk.abstract == (
        "A snippet that shows <script>alert(\"owned\")</script> or 'quoted' words must escape "
        "them before a browser sees them."
    )


def test_speakers(sample: Catalog) -> None:
    ada = sample.speaker("ada-example")
    assert (ada.name, ada.company, ada.job_title, ada.url, ada.aliases) == (
        "Ada Example",
        "Example Systems",
        "Staff Engineer",
        "https://example.org/people/ada-example",
        ("A. Exampleton",),
    )
    assert sample.speaker("jose-muller-test").name == "José Müller-Test"
    assert sample.speaker("chloe-sample").name == "Chloé Sample"
    assert [s.slug for s in sample.people(("chloe-sample", "ada-example"))] == [
        "chloe-sample",
        "ada-example",
    ]


def test_speaker_roles_live_and_recorded_newest_event_first(sample: Catalog) -> None:
    def roles(slug: str) -> list[tuple[str, bool, bool]]:
        return [(r.talk.slug, r.live, r.recorded) for r in sample.speaker_roles(slug)]

    assert roles("jose-muller-test") == [
        ("observability-for-rubber-ducks", False, True),
        ("distributed-storage-without-tears", True, True),
    ]
    assert roles("chloe-sample") == [
        ("testconf-2024-keynote", True, True),
        ("observability-for-rubber-ducks", True, False),
        ("streaming-from-elsewhere", True, True),
    ]
    assert roles("ada-example") == [
        ("testconf-2024-keynote", True, True),
        ("continuous-deployment-for-imaginary-services", True, True),
    ]
    assert roles("unnamed-test-speaker") == [("testconf-2023-lightning-talks", True, True)]


def test_lookups_raise_not_found(sample: Catalog) -> None:
    with pytest.raises(TalkNotFound) as talk:
        sample.talk("keynote-2024")  # a former slug is a redirect, not a talk
    assert talk.value.slug == "keynote-2024"
    with pytest.raises(EventNotFound):
        sample.event("testconf-2022")
    with pytest.raises(SpeakerNotFound):
        sample.speaker("ada")


# ---- problems, located ------------------------------------------------------------------------

EVENT = """\
event:
  slug: conf
  name: Conf
  start_date: 2024-03-01
  timezone: Europe/Paris
"""

SPEAKERS = """\
speakers:
  - slug: ada
    name: Ada
  - slug: bob
    name: Bob
"""


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def problems(tmp_path: Path, files: dict[str, str | bytes]) -> list[CatalogProblem]:
    folder = write(tmp_path / "catalog", files)
    catalog, found = validate_catalog(folder)
    assert catalog is None, "a catalog with problems must not load"
    with pytest.raises(CatalogError) as error:
        load_catalog(folder)
    assert error.value.problems == found
    return found


def located(tmp_path: Path, found: list[CatalogProblem]) -> list[tuple[str, int | None, str]]:
    """(file name, line, field) of each problem, with the file relative to the catalog."""
    base = str(tmp_path / "catalog") + "/"
    out = []
    for p in found:
        assert p.file.startswith(base), p.file
        out.append((p.file.removeprefix(base), p.line, p.field))
    return out


def only(tmp_path: Path, files: dict[str, str | bytes]) -> CatalogProblem:
    found = problems(tmp_path, files)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": "event:\n  slug: conf\n   name: Conf\n"})
    assert located(tmp_path, [p]) == [("a.yaml", 3, "(syntax)")]
    assert p.message == "YAML error: mapping values are not allowed here"


def test_unclosed_flow_list_is_a_syntax_error_at_the_next_key(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": "event:\n  slug: conf\n  name: [unclosed\n  timezone: UTC\n"})
    assert located(tmp_path, [p]) == [("a.yaml", 4, "(syntax)")]
    assert p.message.startswith("YAML error: expected ',' or ']'")


def test_control_character_is_located(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": SPEAKERS + '  - slug: cat\n    name: "C\x0bat"\n'})
    assert located(tmp_path, [p]) == [("a.yaml", 7, "(syntax)")]
    assert p.message == "YAML error: the control character U+000B is not allowed"


def test_two_documents_in_one_file(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": SPEAKERS + "---\nspeakers: []\n"})
    assert located(tmp_path, [p]) == [("a.yaml", 6, "(syntax)")]


def test_unknown_field_suggests_the_known_one(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": EVENT + "talks:\n  - slug: one\n    titel: One\n"})
    assert located(tmp_path, [p]) == [("a.yaml", 8, "talks[0].titel")]
    assert p.message == "unknown field; did you mean 'title'?"


def test_unknown_field_without_a_close_match_lists_the_fields(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": SPEAKERS + "    xyzzy: 1\n"})
    assert located(tmp_path, [p]) == [("a.yaml", 6, "speakers[1].xyzzy")]
    assert p.message.startswith("unknown field (known: slug, name, company,")


def test_unknown_top_level_field(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": SPEAKERS + "talk: []\n"})
    assert located(tmp_path, [p]) == [("a.yaml", 6, "talk")]
    assert p.message == "unknown field; did you mean 'talks'?"


def test_missing_required_fields(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": dedent("""\
            event:
              slug: conf
              name: Conf
              start_date: 2024-03-01
            talks:
              - title: No slug here
                abstract: Nothing.
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("a.yaml", 2, "event.timezone"),  # a mapping's problem is on its first line
        ("a.yaml", 6, "talks[0].slug"),
    ]
    assert {p.message for p in found} == {"required field is missing"}


def test_missing_nested_required_fields(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: one
                links:
                  - title: Slides
                recording:
                  chapters:
                    - title: Start
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("a.yaml", 9, "talks[0].links[0].url"),
        ("a.yaml", 12, "talks[0].recording.chapters[0].start"),
    ]


def test_duplicate_talk_slug_across_files(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT + "talks:\n  - slug: shared\n    title: First\n",
            "b.yaml": dedent("""\
            event:
              slug: other
              name: Other
              start_date: 2024-04-01
              timezone: UTC
            talks:
              - slug: fine
              - slug: shared
                title: Second
            """),
        },
    )
    assert located(tmp_path, found) == [("b.yaml", 8, "talks[1].slug")]
    assert found[0].message == (
        "slug 'shared' is already used by talk 'shared'; a slug is never reused"
    )


def test_talk_slug_equal_to_an_earlier_former_slug(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: new-name
                former_slugs:
                  - old-name
              - slug: old-name
            """),
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 10, "talks[1].slug")]
    assert found[0].message == (
        "slug 'old-name' is already used by talk 'new-name'; a slug is never reused"
    )


def test_former_slug_equal_to_an_earlier_talk_slug(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: taken
              - slug: other
                former_slugs:
                  - fine
                  - taken
            """),
        },
    )
    # Located on the list item, not on the talk.
    assert located(tmp_path, found) == [("a.yaml", 11, "talks[1].former_slugs[1]")]
    assert found[0].message == (
        "slug 'taken' is already used by talk 'taken'; a slug is never reused"
    )


def test_former_slug_equal_to_own_slug(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT + "talks:\n  - slug: same\n    former_slugs: [same]\n",
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 8, "talks[0].former_slugs[0]")]
    assert found[0].message == "is the talk's own slug"


def test_unknown_speaker_is_located_on_its_list_item(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "speakers.yaml": SPEAKERS,
            "talks.yaml": EVENT
            + dedent("""\
            talks:
              - slug: one
                speakers:
                  - ada
                  - adaa
                  - zed
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("talks.yaml", 10, "talks[0].speakers[1]"),
        ("talks.yaml", 11, "talks[0].speakers[2]"),
    ]
    assert [p.message for p in found] == [
        "unknown speaker 'adaa'; did you mean 'ada'?",
        "unknown speaker 'zed' (add it under speakers:)",
    ]


def test_unknown_speaker_is_reported_once_when_the_recording_repeats_the_live_list(
    tmp_path: Path,
) -> None:
    # recording_speakers defaults to speakers: the one mistake is reported once, not twice.
    found = problems(
        tmp_path,
        {
            "a.yaml": SPEAKERS + EVENT + "talks:\n  - slug: one\n    speakers: [ada, ghost]\n",
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 13, "talks[0].speakers[1]")]


def test_unknown_recording_speaker(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": SPEAKERS
            + EVENT
            + dedent("""\
            talks:
              - slug: one
                speakers: [ada]
                recording_speakers:
                  - bob
                  - bobby-tables
            """),
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 16, "talks[0].recording_speakers[1]")]


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ('"25:00"', "'25:00'"),
        ('"10:61"', "'10:61'"),
        ("noon", "'noon'"),
        ("930", "'930'"),  # not 15:30, which is what 930 minutes would be
        ("25:00", "'25:00'"),  # YAML 1.1 reads this unquoted as 1500
        ("2024-03-01", "'2024-03-01'"),  # a date without a time
        ('"2024-03-01 10:99"', "'2024-03-01 10:99'"),
    ],
)
def test_bad_time(tmp_path: Path, written: str, shown: str) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT + f"talks:\n  - slug: one\n    title: One\n    start: {written}\n",
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 9, "talks[0].start")]
    assert found[0].message == f"expected a time like 10:05 or 2024-06-12 10:05, got {shown}"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("10:05", time(10, 5)),  # YAML 1.1 sexagesimal 605, read back as written
        ("9:05", time(9, 5)),
        ('"9:05"', time(9, 5)),  # quoted, the same
        ('"09:05"', time(9, 5)),
        ('"10:05:30"', time(10, 5, 30)),
        ("10:05:30", time(10, 5, 30)),  # unquoted: 36330 in YAML 1.1
        ('"0:30"', time(0, 30)),
        ('"23:59"', time(23, 59)),
    ],
)
def test_times_as_written(tmp_path: Path, written: str, expected: time) -> None:
    folder = write(
        tmp_path / "catalog",
        {
            "a.yaml": EVENT + f"talks:\n  - slug: one\n    start: {written}\n",
        },
    )
    start = load_catalog(folder).talk("one").start
    assert start == datetime.combine(date(2024, 3, 1), expected, tzinfo=ZoneInfo("Europe/Paris"))


def test_date_and_time_forms(tmp_path: Path) -> None:
    paris = ZoneInfo("Europe/Paris")
    folder = write(
        tmp_path / "catalog",
        {
            "a.yaml": dedent("""\
            event:
              slug: conf
              name: Conf
              start_date: 2024-03-01
              end_date: 2024-03-02
              timezone: Europe/Paris
            talks:
              - slug: text
                start: "2024-03-02 10:05"
              - slug: yaml-timestamp
                start: 2024-03-02 10:05:00
              - slug: iso
                start: "2024-03-02T10:05"
              - slug: explicit-offset
                start: 2024-03-02T09:05:00Z
                end: "2024-03-02T12:00:00+02:00"
            """),
        },
    )
    catalog = load_catalog(folder)
    expected = datetime(2024, 3, 2, 10, 5, tzinfo=paris)
    for slug in ("text", "yaml-timestamp", "iso"):
        assert catalog.talk(slug).start == expected, slug
    # An explicit offset is honoured (09:05 UTC is 10:05 in Paris), not replaced.
    talk = catalog.talk("explicit-offset")
    assert talk.start == expected
    assert talk.start.tzinfo == paris
    assert talk.end == datetime(2024, 3, 2, 11, 0, tzinfo=paris)


@pytest.mark.parametrize(("start", "end"), [('"10:30"', '"10:00"'), ('"10:00"', '"10:00"')])
def test_end_not_after_start(tmp_path: Path, start: str, end: str) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT + f"talks:\n  - slug: one\n    start: {start}\n    end: {end}\n",
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 9, "talks[0].end")]
    assert found[0].message == "ends before it starts"


def test_end_without_start(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT + 'talks:\n  - slug: one\n    end: "10:00"\n'})
    assert located(tmp_path, found) == [("a.yaml", 8, "talks[0].end")]
    assert found[0].message == "an end time needs a start time"


def test_start_outside_the_event_dates(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + 'talks:\n  - slug: one\n    title: One\n    start: "2024-03-05 10:00"\n',
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 9, "talks[0].start")]
    assert found[0].message == "2024-03-05 is outside the event's dates (2024-03-01 to 2024-03-01)"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "America", "../../etc/passwd", "zone.tab"])
def test_bad_timezone(tmp_path: Path, zone: str) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT.replace("Europe/Paris", zone)})
    assert located(tmp_path, found) == [("a.yaml", 5, "event.timezone")]
    assert found[0].message == (f"{zone!r} is not a time zone name like 'America/Los_Angeles'")


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ('"2024-02-30"', "expected a date like 2024-06-12, got '2024-02-30'"),
        ("March 1st", "expected a date like 2024-06-12, got 'March 1st'"),
        (
            "2024-03-01 10:00:00",
            "expected a date like 2024-06-12, got datetime.datetime(2024, 3, 1, 10, 0)",
        ),
        ("2024-02-30", "cannot read this value (day is out of range for month)"),
    ],
)
def test_bad_date(tmp_path: Path, written: str, message: str) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT.replace("2024-03-01", written)})
    assert located(tmp_path, found) == [("a.yaml", 4, "event.start_date")]
    assert found[0].message == message


def test_event_ending_before_it_starts(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT + "  end_date: 2024-02-28\n"})
    assert located(tmp_path, found) == [("a.yaml", 6, "event.end_date")]
    assert found[0].message == "ends before it starts"


@pytest.mark.parametrize("slug", ["Hello-World", "a--b", "-a", "a-", "a_b", "é", '""', "a b"])
def test_not_a_slug(tmp_path: Path, slug: str) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT + f"talks:\n  - title: T\n    slug: {slug}\n"})
    assert located(tmp_path, found) == [("a.yaml", 8, "talks[0].slug")]
    assert "is not a slug (lowercase letters, digits and single hyphens" in found[0].message


def test_numeric_slug_is_read_as_written(tmp_path: Path) -> None:
    folder = write(tmp_path / "catalog", {"a.yaml": EVENT + "talks:\n  - slug: 2024\n"})
    assert list(load_catalog(folder).talks) == ["2024"]


def test_list_where_text_is_expected(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT + "talks:\n  - slug: one\n    title: [Part, One]\n",
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 8, "talks[0].title")]
    assert found[0].message == "expected a single value, not a list or mapping"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yes", "expected text, got bool"),
        ("2024-01-01", "expected text, got date"),
        ("{a: 1}", "expected a single value, not a list or mapping"),
    ],
)
def test_other_wrong_types_for_text(tmp_path: Path, value: str, message: str) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT + f"talks:\n  - slug: one\n    title: {value}\n"})
    assert located(tmp_path, found) == [("a.yaml", 8, "talks[0].title")]
    assert found[0].message == message


def test_text_where_a_list_is_expected(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT + "talks:\n  - slug: one\n    tags: ci\n"})
    assert located(tmp_path, found) == [("a.yaml", 8, "talks[0].tags")]
    assert found[0].message == "expected a list (lines starting with '- ')"


def test_numbers_in_text_fields_keep_their_written_form(tmp_path: Path) -> None:
    # YAML 1.1 would read 14:00 as 840, 0x1F as 31 and 1.50 as 1.5.
    folder = write(
        tmp_path / "catalog",
        {
            "a.yaml": EVENT + "talks:\n  - slug: one\n    session: 14:00\n    title: 0x1F\n"
            "    abstract: 1.50\n",
        },
    )
    talk = load_catalog(folder).talk("one")
    assert (talk.session, talk.title, talk.abstract) == ("14:00", "0x1F", "1.50")


def test_duplicate_key_in_a_mapping(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT + "talks:\n  - slug: one\n    title: One\n    title: Uno\n",
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 9, "talks[0].title")]
    assert found[0].message == "is given twice"


def test_empty_file(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": SPEAKERS, "empty.yaml": ""})
    assert located(tmp_path, found) == [("empty.yaml", None, "(file)")]
    assert found[0].message == "the file is empty"


def test_file_of_only_comments_is_empty(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": "# nothing yet\n"})
    assert located(tmp_path, found) == [("a.yaml", None, "(file)")]


def test_non_utf8_file(tmp_path: Path) -> None:
    found = problems(
        tmp_path, {"a.yaml": "speakers:\n  - slug: jose\n    name: Jos\xe9\n".encode("latin-1")}
    )
    assert located(tmp_path, found) == [("a.yaml", None, "(file)")]
    assert found[0].message == "not UTF-8 text (invalid continuation byte)"


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    folder = write(tmp_path / "catalog", {"a.yaml": b"\xef\xbb\xbf" + SPEAKERS.encode()})
    assert list(load_catalog(folder).speakers) == ["ada", "bob"]


def test_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": "- slug: one\n"})
    assert located(tmp_path, found) == [("a.yaml", 1, "(file)")]
    assert found[0].message == "expected a mapping with the fields event, talks, speakers"


def test_talks_without_an_event(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": "talks:\n  - slug: one\n"})
    assert located(tmp_path, found) == [("a.yaml", 1, "event")]
    assert found[0].message == "a file with talks needs an event"


def test_an_event_that_is_not_a_mapping_is_reported_once(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": "event: conf\ntalks:\n  - slug: one\n"})
    assert located(tmp_path, found) == [("a.yaml", 1, "event")]
    assert found[0].message.startswith("expected a mapping with the fields slug, name,")


@pytest.mark.parametrize(
    ("field", "value", "line", "where"),
    [
        ("key", "../etc/passwd", 9, "talks[0].recording.key"),
        ("key", "a/../../b.mp4", 9, "talks[0].recording.key"),
        ("key", "/etc/passwd", 9, "talks[0].recording.key"),
        ("key", "./x.mp4", 9, "talks[0].recording.key"),
        ("key", "c:\\\\x.mp4", 9, "talks[0].recording.key"),
        ("poster", "../poster.jpg", 9, "talks[0].recording.poster"),
    ],
)
def test_unsafe_store_keys(tmp_path: Path, field: str, value: str, line: int, where: str) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT + f'talks:\n  - slug: one\n    recording:\n      {field}: "{value}"\n',
        },
    )
    assert located(tmp_path, found) == [("a.yaml", line, where)]
    assert "is not a store key (a relative path without '..')" in found[0].message


def test_unsafe_caption_src(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: one
                recording:
                  captions:
                    - lang: en
                      src: ../../secrets.vtt
            """),
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 11, "talks[0].recording.captions[0].src")]


def test_bad_urls(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: one
                links:
                  - title: Slides
                    url: javascript:alert(1)
                recording:
                  url: ftp://example.org/x.mp4
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("a.yaml", 10, "talks[0].links[0].url"),
        ("a.yaml", 12, "talks[0].recording.url"),
    ]
    assert found[0].message == "'javascript:alert(1)' is not an http(s) URL"


def test_bad_nested_values_are_reported_not_crashed_on(tmp_path: Path) -> None:
    # A failed chapter start must not reach the sort, nor a failed url the media-type guess.
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: one
                recording:
                  url: not a url
              - slug: two
                recording:
                  chapters:
                    - {start: soon, title: Intro}
                    - {start: 10, title: Later}
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("a.yaml", 9, "talks[0].recording.url"),
        ("a.yaml", 13, "talks[1].recording.chapters[0].start"),
    ]
    assert found[1].message == "expected whole seconds or h:mm:ss, got 'soon'"


def test_recording_with_key_and_url(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: one
                recording:
                  key: conf/one.mp4
                  url: https://example.org/one.mp4
            """),
        },
    )
    assert located(tmp_path, found) == [("a.yaml", 9, "talks[0].recording")]
    assert found[0].message == "give either key or url, not both"


def test_unknown_kind(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": EVENT + "talks:\n  - slug: one\n    kind: keynot\n"})
    assert located(tmp_path, found) == [("a.yaml", 8, "talks[0].kind")]
    assert found[0].message == (
        "'keynot' is not one of: keynote, talk, panel, remarks, lightning, workshop"
    )


def test_speaker_and_event_defined_twice(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": SPEAKERS + EVENT,
            "b.yaml": EVENT + "speakers:\n  - slug: bob\n",
        },
    )
    assert located(tmp_path, found) == [
        ("b.yaml", 7, "speakers[0].slug"),
        ("b.yaml", 2, "event.slug"),
    ]
    assert [p.message for p in found] == [
        "speaker 'bob' is defined twice",
        "event 'conf' is defined twice",
    ]


def test_a_speaker_with_a_bad_field_does_not_make_its_talks_report_it_unknown(
    tmp_path: Path,
) -> None:
    found = problems(
        tmp_path,
        {
            "speakers.yaml": SPEAKERS + "    url: not-a-url\n",
            "talks.yaml": EVENT + "talks:\n  - slug: one\n    speakers: [bob]\n"
            "  - slug: two\n    speakers: [bob]\n",
        },
    )
    assert located(tmp_path, found) == [("speakers.yaml", 6, "speakers[1].url")]


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "speakers.yaml": SPEAKERS,
            "a.yaml": EVENT
            + dedent("""\
            talks:
              - slug: one
                titel: One
                speakers: [ada, nobody]
              - slug: Two
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("a.yaml", 8, "talks[0].titel"),
        ("a.yaml", 10, "talks[1].slug"),
        ("a.yaml", 9, "talks[0].speakers[1]"),  # references are checked after every file
    ]


def test_a_bad_event_does_not_hide_the_problems_of_its_talks(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "speakers.yaml": SPEAKERS,
            "a.yaml": EVENT + "talks:\n  - slug: one\n",
            "b.yaml": EVENT.replace("slug: conf", "slug: other").replace("Europe/Paris", "Nowhere")
            + dedent("""\
            talks:
              - slug: one
              - slug: fine
                start: "12:00"
                end: "11:00"
                speakers: [ghost]
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("b.yaml", 5, "event.timezone"),
        ("b.yaml", 7, "talks[0].slug"),
        ("b.yaml", 11, "talks[1].speakers[0]"),
    ]


def test_a_time_problem_does_not_hide_the_talks_other_problems(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "a.yaml": SPEAKERS
            + EVENT
            + dedent("""\
            talks:
              - slug: one
                start: "12:00"
                end: "11:00"
                speakers: [ghost]
                former_slugs: [one-old]
              - slug: one-old
            """),
        },
    )
    assert located(tmp_path, found) == [
        ("a.yaml", 14, "talks[0].end"),
        ("a.yaml", 17, "talks[1].slug"),
        ("a.yaml", 15, "talks[0].speakers[0]"),
    ]


def test_catalog_error_names_file_and_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "catalog",
        {
            "a.yaml": EVENT + "talks:\n  - slug: one\n    titel: One\n    kind: nope\n",
        },
    )
    with pytest.raises(CatalogError) as error:
        load_catalog(folder)
    path = folder / "a.yaml"
    assert str(error.value) == (
        "2 problem(s) in the catalog:\n"
        f"{path}:8: talks[0].titel: unknown field; did you mean 'title'?\n"
        f"{path}:9: talks[0].kind: 'nope' is not one of: keynote, talk, panel, remarks, "
        "lightning, workshop"
    )
    assert error.value.problems[0].as_dict() == {
        "file": str(path),
        "line": 8,
        "field": "talks[0].titel",
        "message": "unknown field; did you mean 'title'?",
    }


def test_catalog_error_lists_twenty_problems_and_counts_the_rest(tmp_path: Path) -> None:
    talks = "".join(f"  - slug: t{i}\n    kind: nope\n" for i in range(25))
    folder = write(tmp_path / "catalog", {"a.yaml": EVENT + "talks:\n" + talks})
    with pytest.raises(CatalogError) as error:
        load_catalog(folder)
    text = str(error.value)
    assert text.startswith("25 problem(s) in the catalog:\n")
    assert text.count("talks[") == 20
    assert text.endswith("\n... and 5 more")


def test_missing_catalog_path(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as error:
        load_catalog(tmp_path / "nope")
    assert error.value.problems == [
        CatalogProblem(str(tmp_path / "nope"), None, "VOD_CATALOG", "no such file or folder")
    ]


def test_folder_without_yaml(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CatalogError) as error:
        load_catalog(tmp_path)
    assert error.value.problems == [
        CatalogProblem(str(tmp_path), None, "VOD_CATALOG", "the folder holds no .yaml files")
    ]


def test_catalog_files_recurse_skip_hidden_and_accept_yml(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "catalog",
        {
            "b.yml": SPEAKERS,
            "sub/a.yaml": "speakers:\n  - slug: cat\n",
            ".hidden.yaml": "broken: [",
            ".git/x.yaml": "broken: [",
            "notes.txt": "not yaml",
        },
    )
    assert [p.relative_to(folder).as_posix() for p in catalog_files(folder)] == [
        "b.yml",
        "sub/a.yaml",
    ]
    assert list(load_catalog(folder).speakers) == ["ada", "bob", "cat"]


def test_single_file_catalog(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(SPEAKERS + EVENT + "talks:\n  - slug: one\n    speakers: [ada]\n")
    catalog = load_catalog(path)
    assert list(catalog.talks) == ["one"]
    assert catalog.event("conf").source == str(path)
    path.write_text(SPEAKERS + EVENT + "talks:\n  - slug: one\n    speakers: [ghost]\n")
    catalog_, found = validate_catalog(path)
    assert catalog_ is None
    assert [(p.file, p.line, p.field) for p in found] == [(str(path), 13, "talks[0].speakers[0]")]


def test_digest_follows_the_content(tmp_path: Path) -> None:
    folder = write(tmp_path / "catalog", {"a.yaml": SPEAKERS})
    first = load_catalog(folder).digest
    assert load_catalog(folder).digest == first
    write(folder, {"a.yaml": SPEAKERS + "  - slug: cat\n"})
    assert load_catalog(folder).digest != first


# ---- merged speakers keep their links (issue #14) -------------------------------------------

SPEAKERS_WITH_FORMERS = """\
speakers:
  - {slug: ada, name: Ada, former_slugs: [ada-old, a-example]}
  - {slug: bob, name: Bob, former_slugs: [bob]}
  - {slug: cy, name: Cy, former_slugs: [ada-old]}
  - {slug: dee, name: Dee, former_slugs: [ada]}
"""


def test_speaker_former_slugs_redirect(tmp_path: Path) -> None:
    path = tmp_path / "speakers.yaml"
    path.write_text("speakers:\n  - {slug: ada, name: Ada, former_slugs: [ada-old]}\n")
    catalog = load_catalog(path)
    assert catalog.speaker("ada").former_slugs == ("ada-old",)
    assert catalog.speaker_redirect_for("ada-old") == "ada"
    assert catalog.speaker_redirect_for("ada") is None


def test_speaker_former_slugs_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "speakers.yaml"
    path.write_text(SPEAKERS_WITH_FORMERS)
    _, problems = validate_catalog(path)
    found = {(p.line, p.field, p.message) for p in problems}
    assert found == {
        (3, "speakers[1].former_slugs[0]", "is the speaker's own slug"),
        (4, "speakers[2].former_slugs[0]", "is already a former slug of speaker 'ada'"),
        (5, "speakers[3].former_slugs[0]", "'ada' is the slug of another speaker"),
    }
