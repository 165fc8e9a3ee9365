"""Moments in a recording and days of talks: parse `?t=` values, format them for people."""

from __future__ import annotations

import re
from datetime import date, datetime

_UNITS_RE = re.compile(r"^(?:(\d{1,3})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s?)?$")
_CLOCK_RE = re.compile(r"^(?:(\d{1,3}):)?(\d{1,4}):(\d{2})$")
MAX_SECONDS = 100 * 3600  # no talk is longer; larger values are typos or probes


def parse_moment(value: str | None) -> int | None:
    """Read `754`, `90s`, `1m30s`, `1h2m3s`, `12:34` or `1:02:03` as seconds; None if invalid."""
    if not value:
        return None
    text = value.strip().lower()
    if len(text) > 16:
        return None
    seconds: int | None = None
    if m := _CLOCK_RE.match(text):
        hours, minutes, secs = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
        if secs < 60 and (m.group(1) is None or minutes < 60):
            seconds = hours * 3600 + minutes * 60 + secs
    elif (m := _UNITS_RE.match(text)) and any(m.groups()):
        hours, minutes, secs = (int(g or 0) for g in m.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds is None or seconds > MAX_SECONDS:
        return None
    return seconds


def format_clock(seconds: int | float | None) -> str:
    """Format seconds as `m:ss` or `h:mm:ss`."""
    if seconds is None:
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_duration(seconds: int | None) -> str:
    """Format a length for reading: `42 min`, `1 h 5 min`, `45 s`."""
    if not seconds:
        return ""
    if seconds < 60:
        return f"{seconds} s"
    # Half a minute rounds up, always (round() would send 150 s to 2 min but 210 s to 4 min).
    hours, minutes = divmod((seconds + 30) // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def clip_bounds(
    duration: int | None, start_at: int | None, end_at: int | None
) -> tuple[int | None, int | None]:
    """Drop a start past the end of the recording, and an end that is not after the start."""
    if start_at is not None and duration and start_at >= duration:
        start_at = None  # past the end: play from the start rather than at the end
    if end_at is not None and (end_at <= (start_at or 0) or (duration and end_at > duration)):
        end_at = None  # a clip that ends before it starts or after the recording: no clip
    return start_at, end_at


def format_day(day: date, *, weekday: bool = True) -> str:
    """Format a day as people write it: `Saturday, December 5, 2026` (or without the weekday)."""
    return f"{day:%A, %B} {day.day}, {day.year}" if weekday else f"{day:%B} {day.day}, {day.year}"


def format_slot(start: datetime | None, end: datetime | None) -> str:
    """Format a slot as `10:05–10:25 PDT`; empty when the start is not published."""
    if start is None:
        return ""
    text = f"{start:%H:%M}"
    if end is not None:
        text += f"–{end:%H:%M}"
    return f"{text} {start.tzname() or ''}".strip()


def format_days(first: date, last: date) -> str:
    """Format the days of an event: `Saturday, December 5, 2026`, or `June 12 – June 14, 2024`."""
    if first == last:
        return format_day(first)
    return f"{first:%B} {first.day} – {last:%B} {last.day}, {last.year}"
