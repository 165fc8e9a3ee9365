"""Import the pyvideo data repository (github.com/pyvideo/data): a checkout, or a .tar.gz of one.

Layout: `<event>/category.json` (the event) and `<event>/videos/<talk>.json` (one talk each),
plus `NO_PUBLISH.json` at the top, listing ids of videos their speakers asked not to publish.
A .tar.gz is read as a stream, member by member, never extracted. Every record is checked
against pyvideo's schema (.schemas/video.json); one that fails is reported with its path and
the reason, and skipped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tarfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from vod.catalog.identity import slugify
from vod.importers.merge import (
    KEEP,
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

log = logging.getLogger(__name__)

# Fields of a pyvideo import that the source owns; everything else is vod's (see merge.py).
OWNERSHIP = Ownership(
    event=frozenset({"name", "start_date", "end_date", "description", "url"}),
    talk=frozenset({"title", "abstract", "date", "language", "tags", "links", "guid", "speakers"}),
    recording=frozenset({"url", "duration", "poster"}),
)
# Video kinds the player plays, best first: an embed, then a file a browser plays itself.
PLAYABLE = ("youtube", "vimeo", "peertube", "archive.org", "archive", "mp4", "webm", "ogv")
MAX_RECORD_BYTES = 5_000_000  # a talk record is a few kB; a huge one is not a talk record
RECORDED_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2})?)?$"
)
NULLABLE_TEXT = (
    "alias",
    "category",
    "copyright_text",
    "description",
    "language",
    "quality_notes",
    "recorded",
    "slug",
    "summary",
    "thumbnail_url",
)
SOURCE_BASE = "https://github.com/pyvideo/data/blob/main/"  # a record's guid is derived from it

Progress = Callable[[int], Any]


class SourceError(Exception):
    """The source is not a pyvideo checkout or archive."""


# ---- pyvideo's schema ------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    # JSON Schema's integer: 1005.0 is one (213 real records write durations so).
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _unique(items: list[Any]) -> bool:
    seen = [json.dumps(i, sort_keys=True) for i in items]
    return len(seen) == len(set(seen))


def schema_problem(record: Any) -> str | None:
    """Return why `record` fails pyvideo's video schema, or None when it passes."""
    if not isinstance(record, dict):
        return f"a talk record is a JSON object, not {type(record).__name__}"
    for name in ("description", "speakers", "recorded", "title", "videos"):
        if name not in record:
            return f"required field {name!r} is missing"
    if not isinstance(record["title"], str):
        return "'title' must be text"
    for name in NULLABLE_TEXT:
        if record.get(name) is not None and not isinstance(record[name], str):
            return f"{name!r} must be text or null"
    for name in ("duration", "id"):
        if record.get(name) is not None and not _is_int(record[name]):
            return f"{name!r} must be a whole number or null, not {record[name]!r}"
    recorded = record["recorded"]
    if recorded is not None and not RECORDED_RE.match(recorded):
        return f"'recorded' must be a date like 2019-05-03, not {recorded!r}"
    speakers = record["speakers"]
    if not isinstance(speakers, list) or not all(isinstance(s, str) for s in speakers):
        return "'speakers' must be a list of names"
    if not _unique(speakers):
        return "'speakers' lists a name twice"
    tags = record.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        return "'tags' must be a list of non-empty texts"
    if not _unique(tags):
        return "'tags' lists a tag twice"
    related = record.get("related_urls", [])
    if not isinstance(related, list):
        return "'related_urls' must be a list"
    for item in related:
        if isinstance(item, dict):
            if not isinstance(item.get("url"), str) or not isinstance(item.get("label"), str):
                return "each of 'related_urls' needs a 'label' and a 'url'"
        elif not isinstance(item, str):
            return "each of 'related_urls' is a URL or a {label, url} object"
    if not _unique(related):
        return "'related_urls' lists a link twice"
    videos = record["videos"]
    if not isinstance(videos, list) or not videos:
        return "'videos' must list at least one video"
    for video in videos:
        if not isinstance(video, dict):
            return "each of 'videos' is an object with a 'type' and a 'url'"
        if not isinstance(video.get("type"), str) or not isinstance(video.get("url"), str):
            return "each of 'videos' needs a 'type' and a 'url' (texts)"
        for name in ("length", "size"):
            if video.get(name) is not None and not _is_int(video[name]):
                return f"a video's {name!r} must be a whole number or null"
    if not _unique(videos):
        return "'videos' lists a video twice"
    return None


def category_problem(record: Any) -> str | None:
    """Return why `record` fails pyvideo's category schema, or None when it passes."""
    if not isinstance(record, dict):
        return f"a category is a JSON object, not {type(record).__name__}"
    if not isinstance(record.get("title"), str) or not record["title"].strip():
        return "required field 'title' is missing or empty"
    for name in ("description", "alias"):
        if record.get(name) is not None and not isinstance(record[name], str):
            return f"{name!r} must be text or null"
    for name in ("url", "start_date", "end_date"):
        if name in record and not isinstance(record[name], str):
            return f"{name!r} must be text"
    for name in ("start_date", "end_date"):
        if name in record and _day(record[name]) is None:
            return f"{name!r} must be a date like 2019-05-03"
    unknown = sorted(
        set(record) - {"title", "description", "alias", "url", "start_date", "end_date"}
    )
    if unknown:
        return f"unknown field {unknown[0]!r}"
    return None


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# ---- reading the source ------------------------------------------------------------------


@dataclass
class _Collected:
    categories: dict[str, tuple[str, Any]] = field(default_factory=dict)  # folder -> (path, data)
    videos: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)  # folder -> records
    no_publish: set[int] = field(default_factory=set)
    no_publish_seen: bool = False


def _classify(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """Tell what a path inside the repository is: ("video"|"category"|"no_publish", folder)."""
    if parts and parts[-1] == "NO_PUBLISH.json" and len(parts) <= 2:
        return ("no_publish", "")
    if any(p.startswith(".") for p in parts):
        return None  # .schemas, .github, .tests
    if len(parts) >= 3 and parts[-2] == "videos" and parts[-1].endswith(".json"):
        return ("video", parts[-3])
    if len(parts) >= 2 and parts[-1] == "category.json":
        return ("category", parts[-2])
    return None


def _take(found: _Collected, kind: str, folder: str, path: str, data: bytes) -> None:
    if kind == "video":
        found.videos.setdefault(folder, []).append((path, data))
    elif kind == "category":
        found.categories[folder] = (path, data)
    else:
        found.no_publish_seen = True
        try:
            ids = json.loads(data)
            found.no_publish.update(i for i in ids if _is_int(i))
        except (ValueError, TypeError):
            log.warning("NO_PUBLISH.json is not a JSON list of ids; nothing is held back")


def _stream(source: Path, raw: Any) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=raw, mode="r|*")  # a stream: members in archive order
    except tarfile.TarError as exc:
        raise SourceError(f"{source} is not a tar archive ({exc})") from None


def _from_archive(source: Path, progress: Progress | None) -> _Collected:
    try:
        return _read_archive(source, progress)
    except (tarfile.TarError, EOFError, zlib.error) as exc:  # truncated or corrupt on the way
        raise SourceError(f"{source}: cannot read the archive ({exc})") from None


def _read_archive(source: Path, progress: Progress | None) -> _Collected:
    found = _Collected()
    size = source.stat().st_size
    done = 0
    with source.open("rb") as raw, _stream(source, raw) as archive:
        for member in archive:
            if progress is not None and raw.tell() > done:
                progress(raw.tell() - done)
                done = raw.tell()
            if not member.isfile():
                continue
            parts = tuple(p for p in PurePosixPath(member.name).parts if p not in (".", "/"))
            what = _classify(parts)
            if what is None:
                continue
            # Paths are reported relative to the repository, whatever the top folder is.
            path = "/".join(parts[-3:] if what[0] == "video" else parts[-2:])
            if member.size > MAX_RECORD_BYTES:
                found.videos.setdefault("", []).append((path, b""))
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                _take(found, what[0], what[1], path, handle.read())
    if progress is not None and size > done:
        progress(size - done)
    return found


def _from_folder(source: Path, progress: Progress | None) -> _Collected:
    found = _Collected()
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(root).relative_to(source).parts
        for name in sorted(files):
            parts = (*rel, name)
            what = _classify(parts)
            if what is None:
                continue
            path = "/".join(parts)
            file = Path(root, name)
            if file.stat().st_size > MAX_RECORD_BYTES:
                found.videos.setdefault("", []).append((path, b""))
                continue
            _take(found, what[0], what[1], path, file.read_bytes())
            if progress is not None and what[0] == "video":
                progress(1)
    return found


def count_records(source: Path) -> int:
    """Return the number of talk files in a checkout (for a progress bar); 0 for an archive."""
    if not source.is_dir():
        return 0
    return sum(
        1
        for root, dirs, files in os.walk(source)
        if not dirs.__setitem__(slice(None), [d for d in dirs if not d.startswith(".")])
        for name in files
        if Path(root).name == "videos" and name.endswith(".json")
    )


def source_size(source: Path) -> tuple[int, str]:
    """Return what a progress bar counts for `source`: talk files of a checkout, or bytes of
    an archive (read as a stream), with the unit."""
    if source.is_dir():
        return count_records(source), "records"
    return source.stat().st_size, "bytes"


# ---- records to catalog data ---------------------------------------------------------------


def _videos(record: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """Pick the video the player plays; the others become links."""
    videos = [v for v in record["videos"] if clean_url(v["url"])]
    rank = {kind: i for i, kind in enumerate(PLAYABLE)}
    best = min(videos, key=lambda v: rank.get(v["type"].lower(), len(PLAYABLE)), default=None)
    links = [
        {"title": f"Video ({v['type']})", "url": clean_url(v["url"]) or v["url"]}
        for v in videos
        if v is not best
    ]
    return best, links


def _links(record: dict[str, Any]) -> list[dict[str, str]]:
    links: list[dict[str, str]] = []
    for item in record.get("related_urls") or []:
        raw_url = item.get("url") if isinstance(item, dict) else item
        url = clean_url(raw_url)
        if url is None:
            continue
        label = clean_text(item.get("label")) if isinstance(item, dict) else None
        links.append({"title": " ".join((label or url).split()), "url": url})
    return links


def _talk(event: str, path: str, record: dict[str, Any]) -> SourceTalk:
    stem = PurePosixPath(path).stem
    best, video_links = _videos(record)
    recording: dict[str, Any] = {}
    if best is not None:
        recording["url"] = clean_url(best["url"])
    duration = record.get("duration")
    if duration:
        recording["duration"] = int(duration)
    poster = clean_url(record.get("thumbnail_url"))
    if poster:
        recording["poster"] = poster
    tags = list(dict.fromkeys(t for t in (clean_text(t) for t in record.get("tags") or []) if t))
    day = _day(record["recorded"])
    links = []
    for link in _links(record) + video_links:
        if link not in links:
            links.append(link)
    guid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SOURCE_BASE}{event}/videos/{stem}.json"))
    fields: dict[str, Any] = {
        "title": clean_text(record["title"]),
        "abstract": clean_text(record["description"]) or clean_text(record.get("summary")),
        "date": day,
        "language": clean_text(record.get("language")),
        "tags": tags,
        "links": links,
        "guid": guid,
    }
    return SourceTalk(
        origin=path,
        guid=guid,
        slug_hint=stem,
        fields=fields,
        speakers=[SourcePerson(name) for name in record["speakers"] if name.strip()],
        recording=recording,
        sort_key=(day or date.max, stem),
    )


def _event(
    folder: str,
    category: tuple[str, Any] | None,
    records: list[tuple[str, bytes]],
    report: ImportReport,
    no_publish: set[int],
) -> SourceEvent | None:
    talks: list[SourceTalk] = []
    for path, data in sorted(records):
        try:
            record, repeated = parse_json(data) if data else (None, [])
        except JsonError as exc:
            report.skip(path, f"not valid JSON ({exc})")
            continue
        for key in repeated:
            report.notes.append(f"{path}: key {key!r} is given twice; the last is used")
        if record is None:
            report.skip(path, "empty, or larger than a talk record can be")
            continue
        problem = schema_problem(record)
        if problem is not None:
            report.skip(path, problem)
            continue
        if record.get("id") is not None and int(record["id"]) in no_publish:
            report.unpublished.append((path, f"id {int(record['id'])} is in NO_PUBLISH.json"))
            continue
        talks.append(_talk(folder_slug(folder), path, record))
    if category is None:
        report.skip(f"{folder}/category.json", "missing: the folder's talks are skipped")
        return None
    cat_path, cat_data = category
    try:
        cat, repeated = parse_json(cat_data)
    except JsonError as exc:
        report.skip(cat_path, f"not valid JSON ({exc}); the folder's talks are skipped")
        return None
    for key in repeated:
        report.notes.append(f"{cat_path}: key {key!r} is given twice; the last is used")
    problem = category_problem(cat)
    if problem is not None:
        report.skip(cat_path, f"{problem}; the folder's talks are skipped")
        return None
    days = [t.fields["date"] for t in talks if t.fields["date"]]
    days += [d for d in (_day(cat.get("start_date")), _day(cat.get("end_date"))) if d]
    talks.sort(key=lambda t: t.sort_key)
    return SourceEvent(
        slug=folder_slug(folder),
        fields={
            "name": clean_text(cat["title"]),
            # No dates this time (every talk gone upstream): the catalog keeps its own.
            "start_date": min(days) if days else KEEP,
            "end_date": max(days) if days else KEEP,
            "description": clean_text(cat.get("description")),
            "url": clean_url(cat.get("url")),
        },
        talks=talks,
    )


def folder_slug(folder: str) -> str:
    """Return the event slug of a pyvideo folder (`python_porto` becomes `python-porto`)."""
    return slugify(folder, fallback="event")


def read_source(
    source: Path, report: ImportReport, progress: Progress | None = None
) -> Iterator[SourceEvent]:
    """Read a pyvideo checkout or archive into events, reporting every skipped record."""
    if source.is_dir():
        found = _from_folder(source, progress)
    elif source.is_file():
        found = _from_archive(source, progress)
    else:
        raise SourceError(f"{source}: no such file or folder")
    if not found.categories and not found.videos:
        raise SourceError(f"{source} holds no pyvideo events (<event>/category.json)")
    if not found.no_publish_seen:
        report.notes.append("no NO_PUBLISH.json in the source: every record is published")
    for path, _ in found.videos.pop("", []):
        report.skip(path, f"larger than {MAX_RECORD_BYTES} bytes: not a talk record")
    slugs: dict[str, str] = {}
    for folder in sorted(set(found.categories) | set(found.videos)):
        slug = folder_slug(folder)
        if slug in slugs:
            report.skip(folder, f"its event slug {slug!r} is already {slugs[slug]!r}'s")
            continue
        slugs[slug] = folder
        event = _event(
            folder,
            found.categories.get(folder),
            found.videos.get(folder, []),
            report,
            found.no_publish,
        )
        if event is not None:
            yield event


def import_pyvideo(source: Path, out: Path, progress: Progress | None = None) -> ImportReport:
    """Import a pyvideo checkout or .tar.gz into the catalog folder `out`."""
    report = ImportReport()
    events = list(read_source(source, report, progress))
    return merge_into(out, events, OWNERSHIP, report, "pyvideo")
