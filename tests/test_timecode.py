"""`?t=` moments and the clock/duration labels of vod.timecode."""

from __future__ import annotations

import pytest

from vod.timecode import MAX_SECONDS, format_clock, format_duration, parse_moment


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("754", 754),
        ("90s", 90),
        ("1m30s", 90),
        ("1:02:03", 3723),
        ("12:34", 754),
        ("1h2m3s", 3723),
        ("0", 0),
        ("0:00", 0),
        ("45", 45),
        ("2m", 120),
        ("1h", 3600),
        ("1H2M3S", 3723),  # case does not matter
        (" 12:34 ", 754),  # neither do surrounding blanks
        ("90:00", 5400),  # minutes past 59 are fine without hours
        ("100:00:00", MAX_SECONDS),  # the longest moment accepted
        ("360000", MAX_SECONDS),
    ],
)
def test_parse_moment_reads_seconds(value: str, seconds: int) -> None:
    assert parse_moment(value) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "-5",
        "abc",
        "",
        None,
        "1:60",  # 60 seconds is not a second count
        "1:60:00",  # nor 60 minutes after an hour
        "1:2",  # seconds need two digits
        "1.5",
        "5 s",
        "s",
        "h",
        "1h2h",
        "+5",
        "100:00:01",  # one second past MAX_SECONDS
        "360001",
        "999999",
        "9" * 17,  # longer than any moment: refused before any regex runs
        "9" * 100_000,
        "1:02:03:04",
        "12:34; drop table",
    ],
)
def test_parse_moment_refuses_what_is_not_a_moment(value: str | None) -> None:
    assert parse_moment(value) is None


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (None, ""),
        (0, "0:00"),
        (5, "0:05"),
        (59, "0:59"),
        (60, "1:00"),
        (754, "12:34"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (3723, "1:02:03"),
        (36000, "10:00:00"),
        (754.9, "12:34"),  # fractions are cut, not rounded up to a second not yet reached
    ],
)
def test_format_clock(seconds: float | None, label: str) -> None:
    assert format_clock(seconds) == label


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (None, ""),
        (0, ""),
        (1, "1 s"),
        (45, "45 s"),
        (59, "59 s"),
        (60, "1 min"),
        (89, "1 min"),
        (90, "2 min"),  # half a minute rounds up...
        (150, "3 min"),  # ...always (round() would give 2 here but 4 for 210)
        (210, "4 min"),
        (2520, "42 min"),
        (3599, "1 h 0 min"),
        (3600, "1 h 0 min"),
        (3900, "1 h 5 min"),
        (2 * 3600 + 59 * 60 + 29, "2 h 59 min"),
    ],
)
def test_format_duration(seconds: int | None, label: str) -> None:
    assert format_duration(seconds) == label


def test_clock_label_reads_back_as_the_same_moment() -> None:
    for seconds in (0, 1, 59, 61, 754, 3599, 3600, 3723, MAX_SECONDS):
        assert parse_moment(format_clock(seconds)) == seconds
