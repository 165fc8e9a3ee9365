"""Merge what a source says into the catalog files of an output folder, keeping local edits.

An importer reads its source into `SourceEvent`s and hands them to `merge_into`, which:

- reads the catalog files already in the folder (a previous import, perhaps edited by hand);
- finds each talk again by its stable key (`guid`, then the source's `code`, then its slug), so
  a talk keeps its slug once assigned: permalinks never break;
- overwrites only the fields the source owns (`Ownership`) and keeps every other one as the
  organizer left it: recording speakers, recording keys, chapters, captions, former slugs, kind;
- gives new talks a slug unique across every event, deterministically;
- resolves speakers to one identity across events (names compared by `name_key`, aliases
  merging variants), writing new ones to the shared `speakers.yaml`;
- writes a file only when its bytes change, so importing the same source twice changes nothing.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from vod import __version__
from vod.catalog.identity import SpeakerDirectory, slugify
from vod.catalog.loader import _first_alias, validate_catalog
from vod.catalog.writer import render, write_if_changed
from vod.errors import CatalogProblem

log = logging.getLogger(__name__)

SPEAKERS_FILE = "speakers.yaml"
# What the last import wrote, so importing again need not parse every YAML file it wrote
# (a hidden file: catalog loading skips it). A file edited since is read from its YAML.
# JSON, which is only ever read as data: a pickle here could run code in whoever imports next
# (issue 10, item 4). Dates and sets are tagged ({"$date": "2024-05-01"}), see _tagged.
STATE_FILE = ".vod-import.json"
STATE_FORMAT = "vod-import-state 3 " + __version__
LEGACY_STATE_FILE = ".vod-import.pickle"
DEFAULT_TIMEZONE = "UTC"  # required by the format; sources like pyvideo publish no time zone
MAX_TEXT = 100_000  # the loader's limit on one text field

# Field order of each record in the files written (the order of README's catalog format).
EVENT_ORDER = (
    "slug",
    "name",
    "start_date",
    "end_date",
    "timezone",
    "location",
    "description",
    "url",
)
TALK_ORDER = (
    "slug",
    "title",
    "kind",
    "session",
    "start",
    "end",
    "date",
    "speakers",
    "recording_speakers",
    "abstract",
    "language",
    "former_slugs",
    "tags",
    "links",
    "recording",
    "guid",
    "code",
    "do_not_record",
)
RECORDING_ORDER = (
    "key",
    "url",
    "media_type",
    "duration",
    "poster",
    "poster_at",
    "captions",
    "chapters",
)
SPEAKER_ORDER = (
    "slug",
    "name",
    "company",
    "job_title",
    "bio",
    "photo",
    "url",
    "aliases",
    "former_slugs",
)
HEADER = (
    "Written by `vod import`. Importing again updates what the source publishes and keeps what\n"
    "was set here by hand (see README: Importing catalogs). Comments are not kept."
)

_C_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# NUL and lone surrogates (JSON can hold them): the catalog refuses both in text.
_SPACE = re.compile(r"\s")
_UNWANTED = re.compile("[\x00\ud800-\udfff]")


# A value a source gives for a field it owns when it cannot tell this time (an event whose talks
# are all gone has no dates): what the catalog says is kept.
KEEP: Any = type("Keep", (), {"__repr__": lambda self: "KEEP"})()


class MergeError(Exception):
    """The output folder cannot be merged into (a file there is not readable YAML)."""


class ImportInvalid(MergeError):
    """The catalog the import would write does not load: nothing was written."""

    def __init__(self, out: Path, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"error: {p}" for p in problems)
        super().__init__(
            f"the catalog in {out} would not load after this import, so nothing was written:\n"
            + lines
        )


@dataclass
class SourcePerson:
    """A person as the source names them."""

    name: str | None
    bio: str | None = None
    photo: str | None = None
    slug: str | None = None  # a slug the source insists on (vod's own schedule export)
    extra: dict[str, Any] = field(default_factory=dict)  # other speaker fields (vod's export)


@dataclass
class SourceTalk:
    """A talk as the source gives it, already in catalog form."""

    origin: str  # where it came from, for reports: a file path, or an URL and an id
    guid: str | None
    slug_hint: str  # the source's slug, file name or title; made into a unique slug when new
    fields: dict[str, Any]  # owned talk fields (title, abstract, ...); None or empty removes one
    speakers: list[SourcePerson]
    recording: dict[str, Any] = field(default_factory=dict)  # owned recording fields
    code: str | None = None
    slug: str | None = None  # the exact slug to give a new talk when free (vod's export)
    recording_speakers: list[SourcePerson] | None = None  # given only by vod's own export
    # Fields vod keeps as its own (former slugs, chapters...), given only by vod's own export:
    # they start a new talk, and never overwrite what is set here.
    initial: dict[str, Any] = field(default_factory=dict)
    initial_recording: dict[str, Any] = field(default_factory=dict)
    sort_key: tuple[Any, ...] = ()


@dataclass
class SourceEvent:
    slug: str
    fields: dict[str, Any]  # owned event fields
    talks: list[SourceTalk]
    # People the source lists beyond its talks' speakers (vod's export: speakers of no talk).
    people: list[SourcePerson] = field(default_factory=list)


@dataclass(frozen=True)
class Ownership:
    """The fields a source owns: re-import overwrites these and keeps every other one."""

    event: frozenset[str]
    talk: frozenset[str]
    recording: frozenset[str]
    speaker: frozenset[str] = frozenset({"bio", "photo"})


@dataclass
class ImportReport:
    """What an import did, and every record it skipped with the reason."""

    events: int = 0
    talks: int = 0
    new_talks: int = 0
    new_speakers: int = 0
    written: list[str] = field(default_factory=list)  # files whose bytes changed
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    unpublished: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    notes: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped.append((where, why))
        log.debug("skipped %s: %s", where, why)

    def lines(self) -> list[str]:
        """Say what the import did, one line each; every skipped record with its reason."""
        out = [f"skipped: {where}: {why}" for where, why in self.skipped]
        out += [f"not published: {where}: {why}" for where, why in self.unpublished]
        out += [f"note: {note}" for note in self.notes]
        out.append(
            f"Imported {self.events} event(s), {self.talks} talk(s) ({self.new_talks} new), "
            f"{self.new_speakers} new speaker(s); {len(self.skipped)} record(s) skipped, "
            f"{len(self.unpublished)} not published; {len(self.written)} file(s) written, "
            f"{self.unchanged} unchanged."
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "talks": self.talks,
            "new_talks": self.new_talks,
            "new_speakers": self.new_speakers,
            "written": self.written,
            "unchanged": self.unchanged,
            "skipped": [{"where": w, "reason": r} for w, r in self.skipped],
            "unpublished": [{"where": w, "reason": r} for w, r in self.unpublished],
            "notes": self.notes,
        }


def clean_text(value: Any) -> str | None:
    """Return source text as the catalog stores it: stripped, one kind of line break, no NULs."""
    if value is None:
        return None
    text = _UNWANTED.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT].rstrip()
    return text or None


def clean_url(value: Any) -> str | None:
    """Return an http(s) URL the catalog accepts, or None."""
    if not isinstance(value, str):
        return None
    url = value.strip().replace(" ", "%20")
    if not url.startswith(("http://", "https://")) or _SPACE.search(url):
        return None
    if len(url) <= len("https://") or len(url) > 2000:
        return None
    return url


def _widen_dates(event: dict[str, Any], talks: list[dict[str, Any]]) -> None:
    """Stretch the event's dates over every talk it keeps (some may come from another source)."""
    days = [t["date"] for t in talks if isinstance(t.get("date"), date)]
    for talk in talks:
        start = talk.get("start")
        if isinstance(start, str) and len(start) >= 10:
            with contextlib.suppress(ValueError):
                days.append(date.fromisoformat(start[:10]))
        elif isinstance(start, datetime):
            days.append(start.date())
    start_date, end_date = event.get("start_date"), event.get("end_date") or event.get("start_date")
    if not days or not isinstance(start_date, date) or not isinstance(end_date, date):
        return
    if min(days) < start_date:
        event["start_date"] = min(days)
    if max(days) > end_date:
        event["end_date"] = max(days)


def _ordered(record: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    known = {k: record[k] for k in order if k in record}
    known.update((k, v) for k, v in record.items() if k not in known)  # unknown: keep, last
    return known


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _apply(target: dict[str, Any], given: dict[str, Any], owned: Iterable[str]) -> None:
    """Set every owned field from `given`; an owned field the source leaves empty is removed."""
    for name in owned:
        value = given.get(name)
        if value is KEEP:
            continue
        if _empty(value):
            target.pop(name, None)
        else:
            target[name] = value


class _Folder:
    """The catalog files already in the output folder, read as plain data."""

    def __init__(self, out: Path) -> None:
        self.out = out
        state = _read_state(out)
        self.state: dict[str, tuple[str, Any]] = state.get("files", {})  # (sha256, data) by file
        # The guids each source (`pyvideo`, `schedule:<event>`) gave last time: a talk that
        # came from this source and is no longer in it was removed upstream.
        self.sources: dict[str, set[str]] = state.get("sources", {})
        self.event_files: dict[str, Path] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.talks: dict[str, list[dict[str, Any]]] = {}
        self.speakers: dict[str, dict[str, Any]] = {}  # those in speakers.yaml: ours to write
        self.other_speakers: dict[str, dict[str, Any]] = {}  # defined in other files
        if out.is_dir():
            for path in sorted(out.rglob("*")):
                rel = path.relative_to(out)
                if path.suffix not in (".yaml", ".yml") or not path.is_file():
                    continue
                if any(part.startswith(".") for part in rel.parts):
                    continue
                self._read(path)

    def _read(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
            known = self.state.get(path.relative_to(self.out).as_posix())
            if known is not None and known[0] == hashlib.sha256(raw).hexdigest():
                data = copy.deepcopy(known[1])  # as written last time, not edited since
            else:
                text = raw.decode("utf-8")
                # A file edited here may use YAML aliases, which a rewrite would expand (a few
                # kB into a huge file): refused as the loader refuses them.
                root = yaml.compose(text, _C_LOADER) if "*" in text else None
                if root is not None and (line := _first_alias(root)) is not None:
                    raise MergeError(
                        f"{path}:{line}: YAML aliases (*name) are not allowed in catalog "
                        "files; write the value out"
                    )
                data = yaml.load(text, Loader=_C_LOADER)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise MergeError(
                f"cannot read {path} ({exc}); fix it or choose another --out folder"
            ) from None
        if not isinstance(data, dict):
            return
        for raw in data.get("speakers") or []:
            if isinstance(raw, dict) and isinstance(raw.get("slug"), str):
                target = self.speakers if path.name == SPEAKERS_FILE else self.other_speakers
                target.setdefault(raw["slug"], dict(raw))
        event = data.get("event")
        if isinstance(event, dict) and isinstance(event.get("slug"), str):
            slug = event["slug"]
            self.event_files.setdefault(slug, path)
            self.events.setdefault(slug, dict(event))
            talks = [dict(t) for t in data.get("talks") or [] if isinstance(t, dict)]
            self.talks.setdefault(slug, talks)


class _Merger:
    def __init__(self, out: Path, ownership: Ownership, report: ImportReport, origin: str) -> None:
        self.out = out
        self.origin = origin
        self.given: set[str] = set()  # the guids this source gives now
        self.own = ownership
        self.report = report
        self.folder = _Folder(out)
        self.by_guid: dict[str, dict[str, Any]] = {}
        self.by_code: dict[tuple[str, str], dict[str, Any]] = {}
        self.by_slug: dict[tuple[str, str], dict[str, Any]] = {}
        self.used: set[str] = set()  # every talk slug, current or former, in every file
        for event, talks in self.folder.talks.items():
            for talk in talks:
                slug = talk.get("slug")
                if isinstance(talk.get("guid"), str):
                    self.by_guid.setdefault(talk["guid"], talk)
                if isinstance(talk.get("code"), str):
                    self.by_code.setdefault((event, talk["code"]), talk)
                if isinstance(slug, str):
                    self.by_slug.setdefault((event, slug), talk)
                    self.used.add(slug)
                self.used.update(s for s in talk.get("former_slugs") or [] if isinstance(s, str))
        self.speakers = {s: dict(v) for s, v in self.folder.speakers.items()}
        self.directory = SpeakerDirectory()
        self.merged: dict[str, str] = {}  # a speaker folded into another by an alias
        self._index_speakers()
        self.matched: set[int] = set()  # id() of existing talk records found again

    def _index_speakers(self) -> None:
        everyone = {**self.folder.other_speakers, **self.speakers}
        # Aliases first: an organizer listing a variant under a speaker's aliases claims it,
        # even when an earlier import created a separate speaker for that variant.
        for slug, raw in everyone.items():
            self.directory.add(slug, [a for a in raw.get("aliases") or [] if isinstance(a, str)])
        for slug, raw in everyone.items():
            name = raw.get("name")
            owner = self.directory.find(name) if isinstance(name, str) and name else None
            if owner is not None and owner != slug and slug in self.speakers:
                self.merged[slug] = owner  # its name is another speaker's alias (or name)
                continue
            self.directory.add(slug, [name] if isinstance(name, str) else [])
        for slug in self.merged:
            final = self._final(slug)
            self.report.notes.append(
                f"speaker {slug!r} is merged into {final!r} (an alias names it)"
            )
            gone = self.speakers.pop(slug)
            # The merged speaker's page keeps answering: with a 301 to the speaker it became.
            survivor = self.speakers.get(final)
            if survivor is not None:
                formers = [f for f in survivor.get("former_slugs") or [] if isinstance(f, str)]
                formers += [
                    slug,
                    *(f for f in gone.get("former_slugs") or [] if isinstance(f, str)),
                ]
                survivor["former_slugs"] = list(dict.fromkeys(f for f in formers if f != final))
            else:
                self.report.notes.append(
                    f"add {slug!r} under former_slugs of {final!r} by hand, so that its old "
                    "page redirects there"
                )
        for raw in everyone.values():
            self.directory.slugs.update(
                f for f in raw.get("former_slugs") or [] if isinstance(f, str)
            )  # a former slug is never given to a new speaker

    def _final(self, slug: str) -> str:
        seen = {slug}
        while slug in self.merged and self.merged[slug] not in seen:
            slug = self.merged[slug]
            seen.add(slug)
        return slug

    # ---- speakers ------------------------------------------------------------------------

    def person(self, person: SourcePerson) -> str | None:
        """Return the slug of the speaker `person` is, creating the speaker when new."""
        name = clean_text(person.name)
        slug: str | None = None
        if person.slug and (person.slug in self.speakers or person.slug in self.directory.slugs):
            slug = self._final(person.slug)
        elif name:
            found = self.directory.find(name)
            slug = self._final(found) if found else None
        if slug is None:
            if not name and not person.slug:
                return None
            slug = person.slug if person.slug else self.directory.new_slug(name or "speaker")
            if slug in self.directory.slugs:
                slug = self.directory.new_slug(name or slug)
            record: dict[str, Any] = {"slug": slug}
            if name:
                record["name"] = name
            self.speakers[slug] = record
            self.directory.add(slug, [name])
            self.report.new_speakers += 1
        mine = self.speakers.get(slug)
        if mine is not None:  # ours to update: what the source publishes about the person
            given = {"bio": clean_text(person.bio), "photo": person.photo, **person.extra}
            for key in self.own.speaker | set(person.extra):
                if not _empty(given.get(key)):
                    mine[key] = given[key]
        return slug

    def _people(self, persons: Iterable[SourcePerson]) -> list[str]:
        slugs = (self.person(p) for p in persons)
        return list(dict.fromkeys(s for s in slugs if s))

    # ---- talks -----------------------------------------------------------------------------

    def _match(self, event: str, talk: SourceTalk) -> dict[str, Any] | None:
        found = None
        if talk.guid:
            found = self.by_guid.get(talk.guid)
        if found is None and talk.code:
            found = self.by_code.get((event, talk.code))
        if found is None and talk.slug:
            candidate = self.by_slug.get((event, talk.slug))
            if candidate is not None and candidate.get("guid") in (None, talk.guid):
                found = candidate
        if found is not None and id(found) in self.matched:
            return None  # two source records claim one talk: the second becomes a new talk
        return found

    def _new_slug(self, event: str, talk: SourceTalk) -> str:
        if talk.slug and talk.slug not in self.used:
            return talk.slug
        base = slugify(talk.slug_hint or talk.fields.get("title") or "talk", fallback="talk")
        candidates = [base]
        if not base.endswith(event):
            candidates.append(f"{base}-{event}")
        for slug in candidates:
            if slug not in self.used:
                return slug
        n = 2
        while f"{candidates[-1]}-{n}" in self.used:
            n += 1
        return f"{candidates[-1]}-{n}"

    def talk(self, event: str, source: SourceTalk) -> dict[str, Any]:
        old = self._match(event, source)
        if old is not None:
            self.matched.add(id(old))
        talk = dict(old) if old is not None else {}
        if source.guid:
            self.given.add(source.guid)
        if old is None:
            talk["slug"] = self._new_slug(event, source)
            self.report.new_talks += 1
        self.used.add(talk["slug"])
        _apply(talk, source.fields, self.own.talk)
        if "speakers" in self.own.talk:
            speakers = self._people(source.speakers)
            if speakers:
                talk["speakers"] = speakers
            else:
                talk.pop("speakers", None)
        if old is None:
            talk.update((k, v) for k, v in source.initial.items() if not _empty(v))
            if source.recording_speakers is not None:
                talk["recording_speakers"] = self._people(source.recording_speakers)
        for name in ("speakers", "recording_speakers"):
            if isinstance(talk.get(name), list):
                talk[name] = list(dict.fromkeys(self._final(s) for s in talk[name]))
        if talk.get("start"):
            talk.pop("date", None)  # a start time set here says the day already
        talk["recording"] = self._recording(old, source)
        if not talk["recording"] or talk.get("do_not_record"):
            # Not recorded at the speakers' request: nothing to play, whatever was set here.
            del talk["recording"]
        return _ordered(talk, TALK_ORDER)

    def _recording(self, old: dict[str, Any] | None, source: SourceTalk) -> dict[str, Any]:
        before = (old or {}).get("recording")
        recording = dict(before) if isinstance(before, dict) else {}
        _apply(recording, source.recording, self.own.recording)
        if old is None:
            recording.update((k, v) for k, v in source.initial_recording.items() if not _empty(v))
        if recording.get("key"):
            recording.pop("url", None)  # the organizer moved the video into the store: keep it
        return _ordered(recording, RECORDING_ORDER)

    def event(self, source: SourceEvent) -> tuple[Path, dict[str, Any]] | None:
        slug = source.slug
        event = dict(self.folder.events.get(slug, {}))
        _apply(event, source.fields, self.own.event)
        event["slug"] = slug
        event.setdefault("timezone", DEFAULT_TIMEZONE)
        for person in source.people:
            self.person(person)
        talks = [self.talk(slug, t) for t in source.talks]
        kept = 0
        for old in self.folder.talks.get(slug, []):
            if id(old) in self.matched:
                continue
            if old.get("guid") in self.folder.sources.get(self.origin, ()):
                self.report.notes.append(
                    f"talk {old.get('slug')!r} of {slug!r} is no longer in the source; removed"
                )
                continue
            kept += 1  # added by hand, or from another source: not this source's to remove
            for name in ("speakers", "recording_speakers"):
                if isinstance(old.get(name), list):
                    old[name] = list(dict.fromkeys(self._final(s) for s in old[name]))
            talks.append(old)
        path = self.folder.event_files.get(slug) or self.out / f"{slug}.yaml"
        if "start_date" not in event:
            self.report.skip(slug, "no date: neither the source nor the catalog says when it was")
            return None
        _widen_dates(event, talks)
        self.report.events += 1
        self.report.talks += len(talks)
        data: dict[str, Any] = {"event": _ordered(event, EVENT_ORDER)}
        if talks:
            data["talks"] = talks
        return path, data

    def speakers_file(self) -> dict[str, Any]:
        records = [_ordered(self.speakers[s], SPEAKER_ORDER) for s in sorted(self.speakers)]
        return {"speakers": records}


def _without_repeated_guids(events: list[SourceEvent], report: ImportReport) -> list[SourceEvent]:
    """Skip each talk whose guid an earlier talk of the source already has, and say so.

    A guid is how a talk is found again on the next import: two talks with one guid would be
    merged into one, or swap their slugs, depending on their order (issue #10 item 9).
    """
    first: dict[str, str] = {}
    for event in events:
        kept = []
        for talk in event.talks:
            if talk.guid and talk.guid in first:
                report.skip(talk.origin, f"guid {talk.guid} repeats that of {first[talk.guid]}")
                continue
            if talk.guid:
                first[talk.guid] = talk.origin
            kept.append(talk)
        event.talks = kept
    return events


def merge_into(
    out: Path,
    events: Iterable[SourceEvent],
    ownership: Ownership,
    report: ImportReport,
    origin: str,
) -> ImportReport:
    """Merge `events` from the source `origin` into the catalog files under `out`.

    Only the files that change are written. `origin` names the source (`pyvideo`,
    `schedule:<event>`): a talk it gave before and no longer gives is removed.
    """
    merger = _Merger(out, ownership, report, origin)
    outputs: list[tuple[Path, dict[str, Any]]] = []
    events = _without_repeated_guids(list(events), report)
    for source in sorted(events, key=lambda e: e.slug):
        if (output := merger.event(source)) is not None:
            outputs.append(output)
    if merger.speakers or (out / SPEAKERS_FILE).exists():
        outputs.append((out / SPEAKERS_FILE, merger.speakers_file()))
    state: dict[str, tuple[str, Any]] = {}
    with _Staging(out) as staging:
        changed: list[str] = []
        for path, data in outputs:
            rel = path.relative_to(out).as_posix()
            known = merger.folder.state.get(rel)
            if known is not None and known[1] == data and _sha256(path) == known[0]:
                report.unchanged += 1  # the same data as last time, and the file is as written
                state[rel] = known
                continue
            text = render(data, HEADER)
            if write_if_changed(staging.folder / rel, text):
                changed.append(rel)
                report.written.append(str(path))
            else:
                report.unchanged += 1
            state[rel] = (hashlib.sha256(text.encode("utf-8")).hexdigest(), data)
        if changed:
            staging.check()
            staging.swap(changed)
    sources = {**merger.folder.sources, origin: merger.given}
    out.mkdir(parents=True, exist_ok=True)
    _write_state(out, {"files": {**merger.folder.state, **state}, "sources": sources})
    return report


class _Staging:
    """A copy of the output folder's catalog files that an import writes into first.

    Unchanged files are hard links (no bytes copied; writes replace a link, never the file it
    shares). Only once the staged catalog loads are the written files moved into the output
    folder, each with an atomic rename: an import whose result would not load writes nothing
    (issue #10 item 9).
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.folder = out.parent / f".{out.name}.import-{os.getpid()}"

    def __enter__(self) -> _Staging:
        shutil.rmtree(self.folder, ignore_errors=True)  # left by a crashed import of this pid
        self.folder.mkdir(parents=True)
        if self.out.is_dir():
            for path in self.out.rglob("*"):
                rel = path.relative_to(self.out)
                if path.suffix not in (".yaml", ".yml") or path.is_dir():
                    continue
                if any(part.startswith(".") for part in rel.parts):
                    continue
                target = self.folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    # A symlink stays a symlink: the loader judges where it leads, as in `out`.
                    os.link(path, target, follow_symlinks=False)
                except OSError:
                    shutil.copy2(path, target, follow_symlinks=False)
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def check(self) -> None:
        """Load the staged catalog; raise ImportInvalid, naming files in `out`, if it fails."""
        _, problems = validate_catalog(self.folder)
        if problems:
            staged, real = str(self.folder), str(self.out)
            raise ImportInvalid(
                self.out,
                [
                    CatalogProblem(p.file.replace(staged, real, 1), p.line, p.field, p.message)
                    for p in problems
                ],
            )

    def swap(self, changed: list[str]) -> None:
        """Move the written files into the output folder."""
        self.out.mkdir(parents=True, exist_ok=True)
        for rel in changed:
            target = self.out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.folder / rel, target)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _tagged(value: Any) -> Any:
    """JSON for what the state holds besides JSON's own types (json.dumps' `default`)."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, set | frozenset):
        return {"$set": sorted(value)}
    raise TypeError(f"cannot save {type(value).__name__} in the import state")


def _untagged(obj: dict[str, Any]) -> Any:
    """The value `_tagged` wrote (json.loads' `object_hook`)."""
    if len(obj) == 1:
        ((tag, value),) = obj.items()
        if tag == "$date":
            return date.fromisoformat(value)
        if tag == "$datetime":
            return datetime.fromisoformat(value)
        if tag == "$set":
            return set(value)
    return obj


def _read_state(out: Path) -> dict[str, Any]:
    """Return what the last import wrote ({} when unknown); only a shortcut, never trusted."""
    try:
        state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"), object_hook=_untagged)
        if state.get("format") != STATE_FORMAT:
            return {}
        files = {str(rel): (str(sha), data) for rel, (sha, data) in state["files"].items()}
        return {"files": files, "sources": state["sources"]}
    except Exception:  # absent, corrupt, from another version: read the YAML files instead
        return {}


def _write_state(out: Path, state: dict[str, Any]) -> None:
    tmp = out / f".{STATE_FILE}.{os.getpid()}.tmp"
    try:
        body = json.dumps(
            {"format": STATE_FORMAT, **state},
            default=_tagged,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, out / STATE_FILE)
        (out / LEGACY_STATE_FILE).unlink(missing_ok=True)  # an older vod's pickle: never read
    except (OSError, TypeError) as exc:
        tmp.unlink(missing_ok=True)
        log.warning("cannot save the import state in %s: %s", out, exc)
