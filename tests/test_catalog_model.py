"""Imported talks' fields (date, language, guid, code) and the per-event/speaker/year lookups."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from textwrap import dedent

import pytest
from conftest import SAMPLE_CATALOG

from vod.catalog import Catalog, load_catalog, validate_catalog

SERIES = dedent("""\
    speakers:
      - {slug: ana, name: Ana}
      - {slug: ben, name: Ben}
    event:
      slug: meetup-series
      name: A Meetup Series
      start_date: 2019-11-20
      end_date: 2021-02-03
      timezone: UTC
    talks:
      - {slug: third, title: Third, date: 2021-02-03, speakers: [ana]}
      - {slug: untimed, title: Untimed}
      - {slug: first, title: First, date: 2019-11-20, speakers: [ana, ben], language: eng}
      - slug: second
        title: Second
        start: "2020-06-01 18:00"
        date: 2020-06-01
        guid: 0f8fad5b-d9cb-469f-a165-70867728950e
        code: ABC123
        speakers: [ben]
    """)


@pytest.fixture
def series(tmp_path: Path) -> Catalog:
    (tmp_path / "series.yaml").write_text(SERIES, encoding="utf-8")
    (tmp_path / "other.yaml").write_text(
        "event: {slug: conf-2020, name: Conf 2020, start_date: 2020-03-01, timezone: UTC}\n"
        "talks:\n  - {slug: conf-talk, speakers: [ana]}\n",
        encoding="utf-8",
    )
    return load_catalog(tmp_path)


def test_imported_fields(series: Catalog) -> None:
    second = series.talk("second")
    assert (second.guid, second.code, second.date) == (
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "ABC123",
        date(2020, 6, 1),
    )
    assert second.day == date(2020, 6, 1)
    assert series.talk("first").language == "eng"
    assert series.talk("untimed").day is None


def test_agenda_is_timed_then_dated_then_the_rest(series: Catalog) -> None:
    assert [t.slug for t in series.event_talks("meetup-series")] == [
        "second",
        "first",
        "third",
        "untimed",
    ]
    assert series.event_talk_count("meetup-series") == 4
    assert series.event_talks("nope") == []


def test_speaker_talks_newest_event_first(series: Catalog) -> None:
    assert [t.slug for t in series.speaker_talks("ana")] == ["conf-talk", "first", "third"]
    assert [(r.talk.slug, r.live) for r in series.speaker_roles("ben")] == [
        ("second", True),
        ("first", True),
    ]
    assert series.speaker_talks("nobody") == ()


def test_years_and_their_events(series: Catalog) -> None:
    assert series.years() == (2021, 2020, 2019)
    # A series spanning years is listed in each; newest first by start date.
    assert [e.slug for e in series.year_events(2020)] == ["conf-2020", "meetup-series"]
    assert [e.slug for e in series.year_events(2021)] == ["meetup-series"]
    assert series.year_events(2018) == []
    assert [t.slug for t in series.talks_newest_first()] == [
        "conf-talk",
        "second",
        "first",
        "third",
        "untimed",
    ]


def test_lookups_match_a_scan_on_the_sample_catalog() -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    for speaker in catalog.speakers:
        scanned = {
            t.slug
            for t in catalog.talks.values()
            if speaker in t.speakers or speaker in t.recording_speakers
        }
        assert {t.slug for t in catalog.speaker_talks(speaker)} == scanned


@pytest.mark.parametrize(
    ("talk", "field", "message"),
    [
        (
            "{slug: x, date: 2019-01-01}",
            "talks[0].date",
            "2019-01-01 is outside the event's dates (2020-03-01 to 2020-03-02)",
        ),
        (
            '{slug: x, date: 2020-03-02, start: "2020-03-01 10:00"}',
            "talks[0].date",
            "2020-03-02 is not the day of the start time (2020-03-01)",
        ),
        ("{slug: x, date: soon}", "talks[0].date", "expected a date like 2024-06-12, got 'soon'"),
    ],
)
def test_date_problems_are_located(tmp_path: Path, talk: str, field: str, message: str) -> None:
    (tmp_path / "a.yaml").write_text(
        "event: {slug: c, name: C, start_date: 2020-03-01, end_date: 2020-03-02, timezone: UTC}\n"
        f"talks:\n  - {talk}\n",
        encoding="utf-8",
    )
    catalog, problems = validate_catalog(tmp_path)
    assert catalog is None
    assert [(p.line, p.field, p.message) for p in problems] == [(3, field, message)]
