"""Import a pretalx or frab `schedule.json` (the c3voc schema), from a file or an http(s) URL.

The conference becomes an event, its rooms the talks' sessions, its tracks their tags, and its
persons speakers (with biography and avatar). A talk is found again on re-import by its `guid`,
else its pretalx `code`, so its slug and what was set by hand in vod are kept.

vod's own export (`vod export schedule`) also carries, under `conference.meta.vod`, what the
schema has no field for (former slugs, recording speakers, recordings, untimed talks, speaker
slugs); this importer reads it back, so an export imported again gives the same catalog.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vod.catalog.identity import slugify
from vod.catalog.model import TALK_KINDS
from vod.importers.merge import (
    ImportReport,
    Ownership,
    SourceEvent,
    SourcePerson,
    SourceTalk,
    clean_text,
    clean_url,
    merge_into,
)
from vod.importers.source_json import JsonError, parse_json
from vod.outbound import Allowed, FetchError, HostDown, fetch

MAX_BYTES = 50_000_000  # a schedule.json of a very large congress is a few MB
TIMEOUT = 30.0  # seconds to wait for a schedule URL
DURATION_RE = re.compile(r"^(\d+):(\d{2})(?::(\d{2}))?$")
CODE_RE = re.compile(r"/talk/([A-Za-z0-9]+)/?$")  # pretalx talk URLs end in the talk's code
# Link types vod's export adds; read back as the recording, or skipped (made from the slug).
RECORDING_LINK = "recording"
GENERATED_LINKS = frozenset({"permalink", "embed"})
# A schedule's `type`, by the words in it, to vod's kind of slot.
KIND_WORDS = (
    ("keynote", "keynote"),
    ("lightning", "lightning"),
    ("workshop", "workshop"),
    ("tutorial", "workshop"),
    ("hands-on", "workshop"),
    ("panel", "panel"),
    ("podium", "panel"),
    ("discussion", "panel"),
    ("remarks", "remarks"),
    ("opening", "remarks"),
    ("closing", "remarks"),
    ("welcome", "remarks"),
)


class SourceError(Exception):
    """The schedule cannot be read, or is not a schedule.json."""


def read_json(source: str, allow: Allowed | None = None) -> tuple[Any, str, list[str]]:
    """Read a schedule from a file path or an http(s) URL; return it, its base URL, and the
    keys some object in it gives twice.

    A URL is fetched through vod/outbound.py: never from an internal address that
    VOD_FETCH_ALLOW (or `allow`) does not list, at any redirect.
    """
    if source.startswith(("http://", "https://")):
        try:
            response = fetch(source, limit=MAX_BYTES, timeout=TIMEOUT, allow=allow)
        except (FetchError, HostDown) as exc:
            raise SourceError(f"cannot fetch {source}: {exc}") from None
        if response.status >= 300:
            raise SourceError(f"cannot fetch {source}: HTTP {response.status}")
        data = response.body
        base = response.url  # relative links resolve against where the schedule really is
    else:
        path = Path(source)
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise SourceError(f"cannot read {source}: {exc.strerror or exc}") from None
        base = ""
    if len(data) > MAX_BYTES:
        raise SourceError(f"{source} is larger than {MAX_BYTES:,} bytes")
    try:
        value, repeated = parse_json(data)
    except JsonError as exc:
        raise SourceError(f"{source} is not a schedule.json: {exc}") from None
    return value, base, repeated


def _kind(value: Any) -> str:
    text = str(value or "").casefold()
    if text in TALK_KINDS:
        return text
    return next((kind for word, kind in KIND_WORDS if word in text), "talk")


def _seconds(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 60 if value >= 0 else None  # some exports give minutes
    m = DURATION_RE.match(str(value or "").strip())
    if not m:
        return None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def _clock(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" + (f":{moment:%S}" if moment.second else "")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class _Reader:
    """Turns one schedule into a SourceEvent, reporting what it skips."""

    def __init__(self, data: Any, origin: str, base: str, report: ImportReport) -> None:
        self.origin = origin
        self.report = report
        schedule = _dict(_dict(data).get("schedule", data))
        conference = schedule.get("conference")
        if not isinstance(conference, dict):
            raise SourceError(f"{origin}: no schedule.conference (is it a schedule.json?)")
        for name in ("title", "acronym"):
            if not isinstance(conference.get(name), str) or not conference[name].strip():
                raise SourceError(f"{origin}: schedule.conference.{name} is missing")
        self.conference = conference
        self.base = str(schedule.get("base_url") or base)
        self.meta = _dict(_dict(conference.get("meta")).get("vod"))
        zone = conference.get("time_zone_name")
        self.zone_given = isinstance(zone, str) and bool(zone)
        try:
            self.tz = ZoneInfo(str(zone)) if self.zone_given else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise SourceError(f"{origin}: unknown time_zone_name {zone!r}") from None
        self.people = _dict(self.meta.get("speakers"))

    # ---- persons ---------------------------------------------------------------------------

    def _person(self, raw: Any) -> SourcePerson | None:
        if not isinstance(raw, dict):
            return SourcePerson(str(raw)) if isinstance(raw, str) and raw.strip() else None
        name = raw.get("name") or raw.get("public_name") or raw.get("full_public_name")
        known = self.people.get(str(raw.get("guid"))) if raw.get("guid") else None
        avatar = raw.get("avatar")
        photo = clean_url(
            urljoin(self.base, avatar) if isinstance(avatar, str) and avatar else None
        )
        if isinstance(known, dict):  # vod's export: the speaker as it is in vod
            extra = {k: v for k, v in known.items() if k not in ("slug", "name", "bio")}
            return SourcePerson(
                known.get("name"),
                bio=known.get("bio"),
                photo=extra.pop("photo", None) or photo,
                slug=known.get("slug"),
                extra=extra,
            )
        if not isinstance(name, str) or not name.strip():
            return None
        return SourcePerson(name, bio=raw.get("biography"), photo=photo)

    # ---- talks -----------------------------------------------------------------------------

    def _links(self, raw: Any) -> tuple[list[dict[str, str]], str | None]:
        links: list[dict[str, str]] = []
        recording = None
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, str):
                item = {"url": item}
            if not isinstance(item, dict):
                continue
            url = clean_url(urljoin(self.base, str(item.get("url") or "")))
            if url is None:
                continue
            kind = item.get("type")
            if kind == RECORDING_LINK:
                recording = recording or url
                continue
            if kind in GENERATED_LINKS:
                continue
            title = clean_text(item.get("title")) or url
            link = {"title": " ".join(title.split()), "url": url}
            if link not in links:
                links.append(link)
        return links, recording

    def talk(self, raw: Any, where: str, room: str | None) -> SourceTalk | None:
        if not isinstance(raw, dict):
            self.report.skip(where, "an event is a JSON object")
            return None
        title = raw.get("title")
        if not isinstance(title, str):
            self.report.skip(where, "'title' is missing")
            return None
        guid = raw.get("guid") if isinstance(raw.get("guid"), str) else None
        extras = _dict(_dict(self.meta.get("talks")).get(guid)) if guid else {}
        start = end = None
        if raw.get("date") not in (None, ""):
            try:
                start = datetime.fromisoformat(str(raw["date"]).replace("Z", "+00:00"))
            except ValueError:
                self.report.skip(where, f"'date' is not a date and time: {raw['date']!r}")
                return None
            start = start.astimezone(self.tz) if start.tzinfo else start.replace(tzinfo=self.tz)
            length = _seconds(raw.get("duration"))
            if raw.get("duration") not in (None, "") and length is None:
                self.report.skip(where, f"'duration' is not hh:mm: {raw['duration']!r}")
                return None
            end = start + timedelta(seconds=length) if length else None
            if isinstance(extras.get("end"), str):
                end = datetime.fromisoformat(extras["end"]).astimezone(self.tz)
        code = raw.get("code") if isinstance(raw.get("code"), str) else None
        if code is None and isinstance(raw.get("url"), str):
            m = CODE_RE.search(urlsplit(raw["url"]).path)
            code = m.group(1) if m else None
        if "code" in extras:
            code = extras["code"]
        abstract = clean_text(raw.get("abstract"))
        description = clean_text(raw.get("description"))
        if description and description != abstract:
            abstract = f"{abstract}\n\n{description}" if abstract else description
        links, recording_url = self._links(raw.get("links"))
        # The speakers asked not to be recorded: the slot is imported, never as playable.
        not_recorded = raw.get("do_not_record") is True
        if not_recorded:
            recording_url = None
            self.report.unpublished.append(
                (where, "do_not_record: on the agenda, without a recording or feed entry")
            )
        track = clean_text(raw.get("track"))
        tags = (
            extras["tags"] if isinstance(extras.get("tags"), list) else ([track] if track else [])
        )
        session = clean_text(room) if "session" not in extras else extras["session"]
        persons = [p for p in (self._person(x) for x in raw.get("persons") or []) if p]
        recorded = extras.get("recording_speakers")
        fields: dict[str, Any] = {
            "title": clean_text(title),
            "kind": _kind(raw.get("type")),
            "session": session,
            "start": _clock(start) if start else None,
            "end": _clock(end) if end else None,
            "abstract": abstract,
            "language": clean_text(raw.get("language")),
            "tags": tags,
            "links": links,
            "guid": extras.get("guid", guid),
            "code": code,
            "do_not_record": True if not_recorded else None,
        }
        recording = _dict(extras.get("recording"))
        slug = raw.get("slug") if isinstance(raw.get("slug"), str) else None
        return SourceTalk(
            origin=where,
            guid=guid,
            code=code,
            slug_hint=slug or title,
            slug=slug if self.meta else None,
            fields=fields,
            speakers=persons,
            recording={"url": recording_url} if recording_url else {},
            recording_speakers=(
                [self._speaker_ref(s) for s in recorded] if isinstance(recorded, list) else None
            ),
            initial={"former_slugs": extras.get("former_slugs"), "date": _day(extras.get("date"))},
            initial_recording=recording,
            sort_key=(start.timestamp() if start else float("inf"), room or "", title),
        )

    def _speaker_ref(self, slug: Any) -> SourcePerson:
        known = next(
            (p for p in self.people.values() if isinstance(p, dict) and p.get("slug") == slug),
            None,
        )
        if known is None:
            return SourcePerson(None, slug=str(slug))
        extra = {k: v for k, v in known.items() if k not in ("slug", "name", "bio")}
        return SourcePerson(known.get("name"), bio=known.get("bio"), slug=str(slug), extra=extra)

    def event(self) -> tuple[SourceEvent, Ownership]:
        conf = self.conference
        talks: list[SourceTalk] = []
        days = conf.get("days")
        if not isinstance(days, list):
            raise SourceError(f"{self.origin}: schedule.conference.days is missing")
        for d, day in enumerate(days):
            rooms = day.get("rooms") if isinstance(day, dict) else None
            if not isinstance(rooms, dict):
                self.report.skip(f"{self.origin}: days[{d}]", "a day without rooms")
                continue
            for room, items in rooms.items():
                for i, raw in enumerate(items if isinstance(items, list) else []):
                    where = f"{self.origin}: days[{d}].rooms[{room!r}][{i}]"
                    talk = self.talk(raw, where, room)
                    if talk is not None:
                        talks.append(talk)
        for i, raw in enumerate(self.meta.get("untimed") or []):
            talk = self.talk(raw, f"{self.origin}: meta.vod.untimed[{i}]", None)
            if talk is not None:
                talks.append(talk)
        order = self.meta.get("order")
        if isinstance(order, list):  # vod's export: the catalog's own order of talks
            rank = {guid: i for i, guid in enumerate(order)}
            talks.sort(key=lambda t: (rank.get(t.guid, len(rank)), t.sort_key))
        else:
            talks.sort(key=lambda t: t.sort_key)
        event_meta = _dict(self.meta.get("event"))
        acronym = str(conf["acronym"]).replace("_", "-")
        slug = str(event_meta.get("slug") or slugify(acronym, fallback="event"))
        first, last = _day(conf.get("start")), _day(conf.get("end"))
        talk_days = [
            datetime.fromisoformat(t.fields["start"]).date() for t in talks if t.fields["start"]
        ]
        talk_days += [t.initial["date"] for t in talks if isinstance(t.initial.get("date"), date)]
        known_days = [d for d in (first, last, *talk_days) if d]
        if not known_days:
            raise SourceError(f"{self.origin}: no dates (conference.start, or any talk's date)")
        fields: dict[str, Any] = {
            "name": clean_text(conf["title"]),
            "start_date": min(known_days),
            "end_date": max(known_days),
            "timezone": self.tz.key,
            "description": clean_text(conf.get("description")),
            "url": clean_url(conf.get("url")),
            **{k: v for k, v in event_meta.items() if k != "slug"},
        }
        owned_event = {"name", "start_date", "end_date"} | {
            k for k in ("description", "url") if k in conf
        }
        owned_event |= {"timezone"} if self.zone_given else set()
        owned_event |= set(event_meta) - {"slug"}
        ownership = Ownership(
            event=frozenset(owned_event),
            talk=frozenset(
                {
                    "title",
                    "kind",
                    "session",
                    "start",
                    "end",
                    "abstract",
                    "language",
                    "tags",
                    "links",
                    "guid",
                    "code",
                    "speakers",
                    "do_not_record",
                }
            ),
            # A plain schedule says nothing about recordings: only vod's export owns the URL.
            recording=frozenset({"url"} if any(t.recording for t in talks) else ()),
        )
        people = [
            person
            for guid in self.meta.get("unattached") or []
            if isinstance(guid, str) and (person := self._person({"guid": guid})) is not None
        ]
        return SourceEvent(slug=slug, fields=fields, talks=talks, people=people), ownership


def import_schedule(source: str, out: Path, allow: Allowed | None = None) -> ImportReport:
    """Import a schedule.json (a file path or an http(s) URL) into the catalog folder `out`."""
    report = ImportReport()
    data, base, repeated = read_json(source, allow)
    for key in repeated:
        report.notes.append(f"{source}: key {key!r} is given twice in one object; the last is used")
    event, ownership = _Reader(data, source, base, report).event()
    return merge_into(out, [event], ownership, report, f"schedule:{event.slug}")
