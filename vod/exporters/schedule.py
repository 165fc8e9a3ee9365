"""Export an event as a `schedule.json` in the c3voc schema (https://c3voc.de/schedule/schema.json).

Other tools (pretalx consumers, c3voc's publishing scripts, Fahrplan apps) read the schema's
fields. Each talk also carries, in `links`, its permalink, its embeddable player and, for an
external recording, the recording's URL (typed `permalink`, `embed`, `recording`).

What the schema has no field for travels under `conference.meta.vod`, which the schema leaves
open: former slugs, recording speakers, the recording itself (store key, captions, chapters),
every tag, talks without a published time (the schema requires a time), speaker slugs and
details. `vod import schedule` reads it back, so exporting and importing gives the same catalog.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vod import __version__
from vod.catalog.loader import _guess_media_type
from vod.catalog.model import default_recording_key
from vod.errors import EventNotFound, VodError
from vod.urls import SiteUrls

if TYPE_CHECKING:
    from vod.catalog import Catalog, Event, Speaker, Talk

SCHEMA = "https://c3voc.de/schedule/schema.json"
NO_ROOM = "(room not published)"  # the schema requires a room; vod's talk has no session
TIMESLOT = "00:05"


def _guid(url: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, url))


def _hhmm(seconds: int) -> str:
    minutes = seconds // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _recording(event: Event, talk: Talk) -> dict[str, Any]:
    """The talk's recording as its catalog entry would give it, without the defaults."""
    rec = talk.recording
    out: dict[str, Any] = {}
    if rec.key and rec.key != default_recording_key(event.slug, talk.slug):
        out["key"] = rec.key
    if rec.url:
        out["url"] = rec.url
    if rec.media_type != _guess_media_type(rec.url or rec.key or ".mp4"):
        out["media_type"] = rec.media_type
    if rec.duration:
        out["duration"] = rec.duration
    if rec.poster:
        out["poster"] = rec.poster
    if rec.poster_at is not None:
        out["poster_at"] = rec.poster_at
    if rec.captions:
        out["captions"] = [
            {
                "lang": c.lang,
                "src": c.key or c.url,
                **({"label": c.label} if c.label != c.lang else {}),
            }
            for c in rec.captions
        ]
    if rec.chapters:
        out["chapters"] = [{"start": c.start, "title": c.title} for c in rec.chapters]
    return out


def _person(speaker: Speaker, urls: SiteUrls) -> dict[str, Any]:
    person: dict[str, Any] = {"name": speaker.name or "", "guid": _guid(urls.speaker(speaker.slug))}
    if speaker.bio:
        person["biography"] = speaker.bio
    if speaker.photo and speaker.photo.startswith(("http://", "https://")):
        person["avatar"] = speaker.photo
    return person


def _speaker_meta(speaker: Speaker) -> dict[str, Any]:
    fields = {
        "slug": speaker.slug,
        "name": speaker.name,
        "company": speaker.company,
        "job_title": speaker.job_title,
        "bio": speaker.bio,
        "photo": speaker.photo,
        "url": speaker.url,
        "aliases": list(speaker.aliases),
    }
    return {k: v for k, v in fields.items() if v not in (None, [])}


def _links(talk: Talk, urls: SiteUrls) -> list[dict[str, str]]:
    links = [{"url": link.url, "title": link.title} for link in talk.links]
    links.append({"url": urls.talk(talk.slug), "title": "Permalink", "type": "permalink"})
    links.append({"url": urls.embed(talk.slug), "title": "Player", "type": "embed"})
    if talk.recording.url:
        links.append({"url": talk.recording.url, "title": "Recording", "type": "recording"})
    return links


def _talk(catalog: Catalog, event: Event, talk: Talk, urls: SiteUrls) -> tuple[dict[str, Any], str]:
    """Return a talk as a schedule event, and its guid."""
    # The schema wants a UUID: a catalog guid that is not one travels in meta (see _extras).
    guid = talk.guid if talk.guid and _is_uuid(talk.guid) else _guid(urls.talk(talk.slug))
    start, end = talk.start, talk.end
    length = int((end - start).total_seconds()) if start and end else 0
    entry: dict[str, Any] = {
        "id": int(uuid.UUID(guid).hex[:7], 16) + 1,
        "guid": guid,
        "date": start.isoformat() if start else "",
        "start": f"{start:%H:%M}" if start else "",
        "duration": _hhmm(length),
        "room": talk.session or NO_ROOM,
        "slug": talk.slug,
        "url": urls.talk(talk.slug),
        "title": talk.title or "",
        "subtitle": "",
        "track": talk.tags[0] if talk.tags else None,
        "type": talk.kind,
        "language": talk.language or "",
        "abstract": talk.abstract or "",
        "description": "",
        "persons": [_person(s, urls) for s in catalog.people(talk.speakers)],
        "links": _links(talk, urls),
        "attachments": [],
        "do_not_record": talk.do_not_record,
    }
    return entry, guid


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _extras(event: Event, talk: Talk) -> dict[str, Any]:
    """What the schema cannot say about a talk, for vod's importer."""
    extras: dict[str, Any] = {}
    if talk.guid is None or not _is_uuid(talk.guid):
        extras["guid"] = talk.guid  # the schema's guid is made up: not the catalog's
    if talk.session is None:
        extras["session"] = None
    if len(talk.tags) != 1:
        extras["tags"] = list(talk.tags)
    if talk.code:
        extras["code"] = talk.code
    if talk.date:
        extras["date"] = talk.date.isoformat()
    if talk.start and talk.end and (talk.end - talk.start).total_seconds() % 60:
        extras["end"] = talk.end.isoformat()
    if talk.former_slugs:
        extras["former_slugs"] = list(talk.former_slugs)
    if talk.recording_speakers_differ:
        extras["recording_speakers"] = list(talk.recording_speakers)
    recording = _recording(event, talk)
    if recording:
        extras["recording"] = recording
    return extras


def _day_bounds(talks: Iterable[Talk]) -> tuple[datetime, datetime]:
    timed = [t for t in talks if t.start]
    first = min(t.start for t in timed if t.start)
    last = max((t.end or t.start) for t in timed if t.start)
    return first, last


def export_schedule(catalog: Catalog, event_slug: str, base_url: str) -> dict[str, Any]:
    """Return the schedule.json of one event, with permalinks on `base_url`."""
    event = catalog.event(event_slug)
    urls = SiteUrls(base_url)
    talks = catalog.event_talks(event.slug)
    by_day: dict[str, list[Talk]] = {}
    rooms: dict[str, None] = {}
    untimed: list[dict[str, Any]] = []
    extras: dict[str, dict[str, Any]] = {}
    entries: dict[str, dict[str, Any]] = {}
    guids: dict[str, str] = {}
    for talk in talks:
        entry, guid = _talk(catalog, event, talk, urls)
        guids[talk.slug] = guid
        entries[talk.slug] = entry
        if extra := _extras(event, talk):
            extras[guid] = extra
        if talk.start is None:
            untimed.append(entry)
            continue
        by_day.setdefault(talk.start.date().isoformat(), []).append(talk)
        rooms.setdefault(entry["room"], None)
    days = []
    for index, (day, day_talks) in enumerate(sorted(by_day.items()), start=1):
        first, last = _day_bounds(day_talks)
        day_rooms: dict[str, list[dict[str, Any]]] = {}
        for talk in day_talks:
            entry = entries[talk.slug]
            day_rooms.setdefault(entry["room"], []).append(entry)
        days.append(
            {
                "index": index,
                "date": day,
                "day_start": first.isoformat(),
                "day_end": last.isoformat(),
                "rooms": day_rooms,
            }
        )
    people = {s for t in talks for s in (*t.speakers, *t.recording_speakers)}
    unattached = sorted(s for s in catalog.speakers if not catalog.speaker_talks(s))
    conference: dict[str, Any] = {
        "acronym": event.slug.replace("-", "_"),
        "title": event.name,
        "start": event.start_date.isoformat(),
        "end": event.end_date.isoformat(),
        "daysCount": (event.end_date - event.start_date).days + 1,
        "timeslot_duration": TIMESLOT,
        "time_zone_name": event.timezone,
        "url": event.url or urls.event(event.slug),
        "rooms": [
            {"name": name, "guid": _guid(f"{urls.event(event.slug)}#{name}")} for name in rooms
        ],
        "tracks": [{"name": t} for t in dict.fromkeys(t.tags[0] for t in talks if t.tags)],
        "days": days,
        "meta": {
            "vod": {
                "version": 1,
                "event": {
                    "slug": event.slug,
                    "url": event.url,
                    "location": event.location,
                    "description": event.description,
                },
                "order": [guids[t.slug] for t in sorted(talks, key=lambda t: t.position)],
                "talks": extras,
                "untimed": untimed,
                "speakers": {
                    _guid(urls.speaker(s.slug)): _speaker_meta(s)
                    for s in catalog.people(tuple(sorted(people | set(unattached))))
                },
                # Speakers of no talk (yet) are still the catalog's: every export carries them,
                # so importing any one file keeps them (issue #14).
                "unattached": [_guid(urls.speaker(s)) for s in unattached],
            }
        },
    }
    if event.description:
        conference["description"] = event.description
    return {
        "$schema": SCHEMA,
        "generator": {"name": "vod", "version": __version__},
        "schedule": {"version": __version__, "base_url": urls.base + "/", "conference": conference},
    }


class ExportError(VodError):
    """The export cannot be written as asked (no such event, nowhere to put several)."""


def write_schedules(
    catalog: Catalog, events: Sequence[str], base_url: str, out: Path | None
) -> Iterator[tuple[Path | None, str]]:
    """Export `events` (default: every event, newest first) in turn, yielding (file, text).

    `out` is a file for one event, or a folder for several (`<event>.schedule.json` each); the
    file is written before it is yielded. Without `out` nothing is written (file None), and
    only one event can be exported.
    """
    slugs = list(events) or [e.slug for e in catalog.events_newest_first()]
    one_file = len(slugs) == 1 and not (out is not None and out.is_dir())
    if out is None and not one_file:
        raise ExportError("several events: pass --event SLUG, or --out FOLDER")
    for slug in slugs:
        try:
            text = json.dumps(
                export_schedule(catalog, slug, base_url), indent=2, ensure_ascii=False
            )
        except EventNotFound:
            raise ExportError(f"no event {slug!r} in the catalog") from None
        if out is None:
            yield None, text
            continue
        target = out if one_file else out / f"{slug}.schedule.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text + "\n", encoding="utf-8")
        yield target, text
