"""Load catalog YAML files into the model, reporting every problem with file, line and field.

A catalog is one YAML file or a folder of them (`*.yaml`, `*.yml`, searched recursively). Each
file may hold an `event` with its `talks`, and any file may hold `speakers`: one speaker identity
serves every event. The format is documented in README.md ("The catalog format").
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from vod.catalog.model import (
    TALK_KINDS,
    Caption,
    Catalog,
    Chapter,
    Event,
    Link,
    Recording,
    Speaker,
    Talk,
    default_recording_key,
)
from vod.errors import CatalogError, CatalogProblem

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A store key: relative, forward slashes, no `..` or empty parts (checked again by storage).
KEY_RE = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9._~@+\-/ ]+$")
DURATION_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
MAX_TEXT = 100_000  # characters in one field; a longer one is a mistake, not content
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")  # one C scan, not a loop per character


class _Invalid(Exception):
    """A value failed its check; the message says why."""


@dataclass(frozen=True)
class _Ref:
    """A slug (a speaker, or a talk's former slug) with the line it was written on."""

    slug: str
    line: int


Parser = Callable[["_Context", Node, str], Any]


class _Context:
    """Collects problems while one file is read."""

    def __init__(self, file: str, problems: list[CatalogProblem]) -> None:
        self.file = file
        self.problems = problems
        self._constructor = SafeConstructor()

    def problem(self, node: Node | None, field: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(CatalogProblem(self.file, line, field, message))

    def scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            raise _Invalid("expected a single value, not a list or mapping")
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ConstructorError, ValueError) as exc:
            raise _Invalid(f"cannot read this value ({exc})") from None

    def written(self, node: Node) -> Any:
        """Like `scalar`, but a number keeps the text it was written as.

        YAML 1.1 reads unquoted `14:00` as 840 and `0x1F` as 31; in a text field or a slug
        the person meant the characters they typed.
        """
        value = self.scalar(node)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(node.value)
        return value


# ---- value parsers: each returns the value or raises _Invalid --------------------------------


def _text(ctx: _Context, node: Node, field: str) -> str | None:
    value = ctx.written(node)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(f"expected text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise _Invalid(f"text is longer than {MAX_TEXT} characters")
    if _NUL_OR_SURROGATE.search(text):
        raise _Invalid("text contains a NUL or an unpaired surrogate character")
    return text or None


def _required_text(ctx: _Context, node: Node, field: str) -> str:
    text = _text(ctx, node, field)
    if text is None:
        raise _Invalid("must not be empty")
    return text


def _slug(ctx: _Context, node: Node, field: str) -> str:
    value = ctx.written(node)
    if not isinstance(value, str) or not SLUG_RE.match(value):
        raise _Invalid(
            f"{value!r} is not a slug (lowercase letters, digits and single hyphens, "
            "like 'training-arctic-at-snowflake')"
        )
    return value


def _slug_ref(ctx: _Context, node: Node, field: str) -> _Ref:
    return _Ref(_slug(ctx, node, field), node.start_mark.line + 1)


def _url(ctx: _Context, node: Node, field: str) -> str | None:
    text = _text(ctx, node, field)
    if text is not None and not re.match(r"^https?://[^\s]+$", text):
        raise _Invalid(f"{text!r} is not an http(s) URL")
    return text


def _media_ref(ctx: _Context, node: Node, field: str) -> str | None:
    """A store key (`event/talk.mp4`) or an http(s) URL."""
    text = _text(ctx, node, field)
    if text is None or text.startswith(("http://", "https://")):
        return _url(ctx, node, field)
    if not KEY_RE.match(text):
        raise _Invalid(f"{text!r} is not a store key (a relative path without '..') nor a URL")
    return text


def _key(ctx: _Context, node: Node, field: str) -> str | None:
    text = _text(ctx, node, field)
    if text is not None and not KEY_RE.match(text):
        raise _Invalid(f"{text!r} is not a store key (a relative path without '..')")
    return text


def _date(ctx: _Context, node: Node, field: str) -> date:
    value = ctx.scalar(node)
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise _Invalid(f"expected a date like 2024-06-12, got {value!r}")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _Invalid(f"expected a date like 2024-06-12, got {value!r}") from None
    return value


def _timezone(ctx: _Context, node: Node, field: str) -> str:
    name = _required_text(ctx, node, field)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(f"{name!r} is not a time zone name like 'America/Los_Angeles'") from None
    return name


def _clock(ctx: _Context, node: Node, field: str) -> time | datetime:
    """A local time `10:05`, or a local date and time `2024-06-12 10:05`.

    A date and time with an explicit offset (`2024-06-12T17:05:00Z`) is kept aware and turned
    into the event's time zone; everything else is local to the event.
    """
    value = ctx.scalar(node)
    if isinstance(value, datetime):
        return value
    # Read the text as written: YAML 1.1 turns an unquoted 10:05 into the number 605, and a
    # plain number such as 930 is not a time at all (it is not 15:30).
    text = str(node.value).strip()
    if not isinstance(value, bool) and isinstance(value, int | str):
        if m := CLOCK_RE.match(text):
            return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
        if isinstance(value, str) and len(text) > 8:
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
    raise _Invalid(f"expected a time like 10:05 or 2024-06-12 10:05, got {text!r}")


def _seconds(ctx: _Context, node: Node, field: str) -> int:
    """A duration or offset: whole seconds, or `m:ss` / `h:mm:ss`."""
    value = ctx.scalar(node)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        # Unquoted 12:34 is read by YAML 1.1 as 12*60+34, which is what it means here too.
        return value
    if isinstance(value, str) and (m := DURATION_RE.match(value.strip())):
        hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
        if seconds < 60 and (hours == 0 or minutes < 60):
            return hours * 3600 + minutes * 60 + seconds
    raise _Invalid(f"expected whole seconds or h:mm:ss, got {value!r}")


def _flag(ctx: _Context, node: Node, field: str) -> bool:
    value = ctx.scalar(node)
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {value!r}")
    return value


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(ctx: _Context, node: Node, field: str) -> str:
        value = ctx.scalar(node)
        if value not in options:
            raise _Invalid(f"{value!r} is not one of: {', '.join(options)}")
        return str(value)

    return parse


def _list_of(item: Parser) -> Parser:
    def parse(ctx: _Context, node: Node, field: str) -> list[Any]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, SequenceNode):
            raise _Invalid("expected a list (lines starting with '- ')")
        out = []
        for i, child in enumerate(node.value):
            try:
                out.append(item(ctx, child, f"{field}[{i}]"))
            except _Invalid as exc:
                ctx.problem(child, f"{field}[{i}]", str(exc))
        return out

    return parse


@dataclass(frozen=True)
class _Spec:
    parse: Parser
    required: bool = False


def _mapping(spec: dict[str, _Spec]) -> Parser:
    def parse(ctx: _Context, node: Node, field: str) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise _Invalid(f"expected a mapping with the fields {', '.join(spec)}")
        lines: dict[str, int] = {}  # the line each field's value is on, for later problems
        out: dict[str, Any] = {"__line__": node.start_mark.line + 1, "__lines__": lines}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            where = f"{field}.{key}" if field else str(key)
            if key in seen:
                ctx.problem(key_node, where, "is given twice")
                continue
            if key not in spec:
                hint = difflib.get_close_matches(str(key), spec, n=1)
                ctx.problem(
                    key_node,
                    where,
                    "unknown field"
                    + (f"; did you mean {hint[0]!r}?" if hint else f" (known: {', '.join(spec)})"),
                )
                continue
            seen.add(key)
            lines[key] = value_node.start_mark.line + 1
            try:
                out[key] = spec[key].parse(ctx, value_node, where)
            except _Invalid as exc:
                ctx.problem(value_node, where, str(exc))
                out[key] = _BAD
        for name, rule in spec.items():
            if rule.required and name not in seen:
                ctx.problem(node, f"{field}.{name}" if field else name, "required field is missing")
                out[name] = _BAD
        return out

    return parse


_BAD = object()  # a value that failed its check (already reported)

_CAPTION = _mapping(
    {
        "lang": _Spec(_required_text, required=True),
        "label": _Spec(_text),
        "src": _Spec(_media_ref, required=True),
    }
)
_CHAPTER = _mapping({"start": _Spec(_seconds, required=True), "title": _Spec(_required_text, True)})
_RECORDING = _mapping(
    {
        "key": _Spec(_key),
        "url": _Spec(_url),
        "media_type": _Spec(_text),
        "duration": _Spec(_seconds),
        "poster": _Spec(_media_ref),
        "poster_at": _Spec(_seconds),
        "captions": _Spec(_list_of(_CAPTION)),
        "chapters": _Spec(_list_of(_CHAPTER)),
    }
)
_LINK = _mapping({"title": _Spec(_required_text, required=True), "url": _Spec(_url, True)})
_TALK = _mapping(
    {
        "slug": _Spec(_slug, required=True),
        "title": _Spec(_text),
        "kind": _Spec(_choice(TALK_KINDS)),
        "session": _Spec(_text),
        "start": _Spec(_clock),
        "end": _Spec(_clock),
        "abstract": _Spec(_text),
        "speakers": _Spec(_list_of(_slug_ref)),
        "recording_speakers": _Spec(_list_of(_slug_ref)),
        "recording": _Spec(_RECORDING),
        "former_slugs": _Spec(_list_of(_slug_ref)),
        "tags": _Spec(_list_of(_required_text)),
        "links": _Spec(_list_of(_LINK)),
        # Imported catalogs: the day when no time is published, and the source's keys.
        "date": _Spec(_date),
        "language": _Spec(_text),
        "guid": _Spec(_text),
        "code": _Spec(_text),
        "do_not_record": _Spec(_flag),
    }
)
_SPEAKER = _mapping(
    {
        "slug": _Spec(_slug, required=True),
        "name": _Spec(_text),
        "company": _Spec(_text),
        "job_title": _Spec(_text),
        "bio": _Spec(_text),
        "photo": _Spec(_media_ref),
        "url": _Spec(_url),
        "aliases": _Spec(_list_of(_required_text)),
        "former_slugs": _Spec(_list_of(_slug_ref)),
    }
)
_EVENT = _mapping(
    {
        "slug": _Spec(_slug, required=True),
        "name": _Spec(_required_text, required=True),
        "start_date": _Spec(_date, required=True),
        "end_date": _Spec(_date),
        "timezone": _Spec(_timezone, required=True),
        "location": _Spec(_text),
        "description": _Spec(_text),
        "url": _Spec(_url),
    }
)
_FILE = _mapping(
    {
        "event": _Spec(_EVENT),
        "talks": _Spec(_list_of(_TALK)),
        "speakers": _Spec(_list_of(_SPEAKER)),
    }
)


# ---- reading files ---------------------------------------------------------------------------


def catalog_files(path: Path) -> list[Path]:
    """Return the YAML files that make up the catalog at `path`, in a stable order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CatalogError(
            [CatalogProblem(str(path), None, "VOD_CATALOG", "no such file or folder")]
        )
    files = [
        p
        for p in sorted(path.rglob("*"))
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]
    if not files:
        raise CatalogError(
            [CatalogProblem(str(path), None, "VOD_CATALOG", "the folder holds no .yaml files")]
        )
    # A symlink may point anywhere: one leading out of the folder would publish a file the
    # catalog's author does not own (another site's catalog, /etc/...). Refused, not followed.
    root = path.resolve()
    outside = [
        CatalogProblem(
            str(p), None, "(file)", "is a symlink leading outside the catalog folder; refused"
        )
        for p in files
        if not p.resolve().is_relative_to(root)
    ]
    if outside:
        raise CatalogError(outside)
    return files


# libyaml composes many times faster than the pure-Python parser (21,700 talks at every start).
_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _compose(text: str) -> Node | None:
    """Compose the YAML node tree with libyaml when it is there.

    Whatever libyaml refuses is read again by the pure-Python parser, so every syntax error is
    reported with the same words and line as before; control characters go straight to it.
    """
    if _C_LOADER is not None and not _NON_PRINTABLE.search(text):
        try:
            node: Node | None = yaml.compose(text, Loader=_C_LOADER)
            return node
        except yaml.YAMLError:
            pass
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        # libyaml stops at 1,000 levels; the pure-Python parser recurses until Python stops
        # it. A catalog needs six levels: say so in one line (issue #10 item 9).
        raise yaml.YAMLError("lists or mappings are nested too deeply") from None


def _first_alias(root: Node) -> int | None:
    """Return the line of the first YAML alias (`*name`) in the tree, or None when it has none.

    The composer makes an alias the very node its anchor names, so a repeated node is an alias.
    Walking with a set of nodes seen stays linear even for a "billion laughs" file (107 kB of
    nested aliases expanded into a 397 MB page before, issue #10 item 9).
    """
    seen: set[int] = set()
    stack: list[tuple[Node, Node | None]] = [(root, None)]
    while stack:
        node, key = stack.pop()
        if id(node) in seen:
            # The key the alias was written after is on the alias's line (or its list's key);
            # the node's own mark is where its anchor was.
            return (key or node).start_mark.line + 1
        seen.add(id(node))
        # Children pushed last-first, so nodes are visited in document order: an anchor is
        # always met before its aliases.
        if isinstance(node, MappingNode):
            for k, v in reversed(node.value):
                stack.append((v, k))
                stack.append((k, None))
        elif isinstance(node, SequenceNode):
            # An item has no key: its list's key is the nearest line that names it.
            stack.extend((child, key) for child in reversed(node.value))
    return None


def _read_file(path: Path, label: str, problems: list[CatalogProblem]) -> dict[str, Any] | None:
    ctx = _Context(label, problems)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(CatalogProblem(label, None, "(file)", f"not UTF-8 text ({exc.reason})"))
        return None
    except OSError as exc:
        problems.append(CatalogProblem(label, None, "(file)", f"cannot read: {exc.strerror}"))
        return None
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problems.append(CatalogProblem(label, line, "(syntax)", f"YAML error: {exc.problem}"))
        return None
    except ReaderError as exc:
        # A control character (often pasted from a PDF); the reader knows only its offset.
        line = text.count("\n", 0, exc.position) + 1
        problems.append(
            CatalogProblem(
                label,
                line,
                "(syntax)",
                f"YAML error: the control character U+{exc.character:04X} is not allowed",
            )
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(CatalogProblem(label, None, "(syntax)", f"YAML error: {exc}"))
        return None
    if root is None:
        problems.append(CatalogProblem(label, None, "(file)", "the file is empty"))
        return None
    if "*" in text and (line := _first_alias(root)) is not None:
        problems.append(
            CatalogProblem(
                label,
                line,
                "(syntax)",
                "YAML aliases (*name) are not allowed in catalog files: write the value out",
            )
        )
        return None
    try:
        data: dict[str, Any] = _FILE(ctx, root, "")
    except _Invalid as exc:
        ctx.problem(root, "(file)", str(exc))
        return None
    if data.get("talks") and "event" not in data:  # a bad event is already reported
        ctx.problem(root, "event", "a file with talks needs an event")
    return data


def _ok(value: Any) -> bool:
    return value is not _BAD and value is not None


def _local(day: date, value: time | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(tz)
    naive = value if isinstance(value, datetime) else datetime.combine(day, value)
    return naive.replace(tzinfo=tz)


def _has_bad(value: Any) -> bool:
    """Tell whether a checked value holds a failed check anywhere inside it."""
    if value is _BAD:
        return True
    if isinstance(value, dict):
        return any(_has_bad(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_bad(v) for v in value)
    return False


def _line(raw: dict[str, Any], name: str) -> int:
    """The line of field `name` of a checked mapping, else the mapping's first line."""
    line: int = raw["__lines__"].get(name, raw["__line__"])
    return line


class _Builder:
    """Turns checked file data into model objects and checks what spans files."""

    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        self.events: dict[str, Event] = {}
        self.speakers: dict[str, Speaker] = {}
        self.talks: dict[str, Talk] = {}
        self.redirects: dict[str, str] = {}
        self.speaker_redirects: dict[str, str] = {}
        self.speaker_formers: list[tuple[str, int | None, str, str]] = []  # for the checks
        self.slug_owner: dict[str, tuple[str, int]] = {}  # any talk slug, current or former
        self.refs: list[tuple[str, str, _Ref]] = []  # (file, field, ref) to check at the end
        self.guids: dict[str, str] = {}  # a source's guid -> the talk that has it

    def add(self, label: str, data: dict[str, Any]) -> None:
        speakers: Any = data.get("speakers")
        for i, raw in enumerate(speakers if _ok(speakers) else []):
            self._add_speaker(label, f"speakers[{i}]", raw)
        raw_event = data.get("event")
        event = self._add_event(label, raw_event if _ok(raw_event) else None)
        talks: Any = data.get("talks")
        for i, raw in enumerate(talks if _ok(talks) else []):
            # Without a usable event the talk is not built, but its slugs and speaker
            # references are still checked, so every problem is reported in one pass.
            self._add_talk(label, f"talks[{i}]", raw, event, i)

    def _problem(self, file: str, line: int | None, field: str, message: str) -> None:
        self.problems.append(CatalogProblem(file, line, field, message))

    def _add_speaker(self, label: str, field: str, raw: dict[str, Any]) -> None:
        slug: Any = raw.get("slug")
        if not _ok(slug):
            return
        if slug in self.speakers:
            self._problem(
                label, _line(raw, "slug"), f"{field}.slug", f"speaker {slug!r} is defined twice"
            )
            return
        # A speaker with a bad field is still registered (its field is already reported), so
        # the talks naming it do not each report an unknown speaker too.
        good = {k: (None if v is _BAD else v) for k, v in raw.items()}
        self.speakers[slug] = Speaker(
            slug=slug,
            name=good.get("name"),
            company=good.get("company"),
            job_title=good.get("job_title"),
            bio=good.get("bio"),
            photo=good.get("photo"),
            url=good.get("url"),
            aliases=tuple(good.get("aliases") or ()),
            former_slugs=tuple(r.slug for r in good.get("former_slugs") or ()),
        )
        for i, former in enumerate(good.get("former_slugs") or ()):
            where = f"{field}.former_slugs[{i}]"
            if former.slug == slug:
                self._problem(label, former.line, where, "is the speaker's own slug")
            elif former.slug in self.speaker_redirects:
                owner = self.speaker_redirects[former.slug]
                self._problem(
                    label, former.line, where, f"is already a former slug of speaker {owner!r}"
                )
            else:
                self.speaker_redirects[former.slug] = slug
                self.speaker_formers.append((label, former.line, where, former.slug))

    def _add_event(self, label: str, raw: dict[str, Any] | None) -> Event | None:
        if raw is None or not isinstance(raw, dict) or any(v is _BAD for v in raw.values()):
            return None
        slug = raw["slug"]
        if slug in self.events:
            self._problem(
                label, _line(raw, "slug"), "event.slug", f"event {slug!r} is defined twice"
            )
            return None
        start, end = raw["start_date"], raw.get("end_date") or raw["start_date"]
        if end < start:
            self._problem(label, _line(raw, "end_date"), "event.end_date", "ends before it starts")
            return None
        event = Event(
            slug=slug,
            name=raw["name"],
            start_date=start,
            end_date=end,
            timezone=raw["timezone"],
            description=raw.get("description"),
            location=raw.get("location"),
            url=raw.get("url"),
            source=label,
        )
        self.events[slug] = event
        return event

    def _claim(self, label: str, line: int, field: str, slug: str, talk: str) -> bool:
        """Reserve a talk slug (current or former) for one talk; report reuse."""
        owner = self.slug_owner.get(slug)
        if owner is not None:
            self._problem(
                label,
                line,
                field,
                f"slug {slug!r} is already used by talk {owner[0]!r}; a slug is never reused",
            )
            return False
        self.slug_owner[slug] = (talk, line)
        return True

    def _add_talk(
        self, label: str, field: str, raw: dict[str, Any], event: Event | None, pos: int
    ) -> None:
        slug: Any = raw.get("slug")
        claimed = _ok(slug) and self._claim(label, _line(raw, "slug"), f"{field}.slug", slug, slug)
        formers: list[_Ref] = raw.get("former_slugs") or []
        if claimed and _ok(formers):
            for i, former in enumerate(formers):
                where = f"{field}.former_slugs[{i}]"
                if former.slug == slug:
                    self._problem(label, former.line, where, "is the talk's own slug")
                elif self._claim(label, former.line, where, former.slug, slug):
                    self.redirects[former.slug] = slug
        speakers: list[_Ref] = raw.get("speakers") or []
        if not _ok(speakers):
            speakers = []
        for i, ref in enumerate(speakers):
            self.refs.append((label, f"{field}.speakers[{i}]", ref))
        recorded: list[_Ref] = speakers
        if "recording_speakers" in raw:
            given = raw["recording_speakers"]
            recorded = given if _ok(given) else []
            # Only a list that is written out is checked: the default repeats `speakers`, whose
            # unknown names are already reported once.
            for i, ref in enumerate(recorded):
                self.refs.append((label, f"{field}.recording_speakers[{i}]", ref))
        if event is None or not claimed or _has_bad(raw):
            return  # every failed check is already reported; there is no talk to build
        tz = ZoneInfo(event.timezone)
        start = _local(event.start_date, raw["start"], tz) if _ok(raw.get("start")) else None
        end = _local(event.start_date, raw["end"], tz) if _ok(raw.get("end")) else None
        if end is not None and start is None:
            self._problem(
                label, _line(raw, "end"), f"{field}.end", "an end time needs a start time"
            )
            return
        if start is not None and end is not None and end <= start:
            self._problem(label, _line(raw, "end"), f"{field}.end", "ends before it starts")
            return
        if start is not None and not (
            event.start_date <= start.date() <= event.end_date + timedelta(days=1)
        ):
            self._problem(
                label,
                _line(raw, "start"),
                f"{field}.start",
                f"{start:%Y-%m-%d} is outside the event's dates "
                f"({event.start_date} to {event.end_date})",
            )
            return
        day: date | None = raw.get("date")
        if day is not None and start is not None and day != start.date():
            self._problem(
                label,
                _line(raw, "date"),
                f"{field}.date",
                f"{day} is not the day of the start time ({start:%Y-%m-%d})",
            )
            return
        if day is not None and not event.start_date <= day <= event.end_date:
            self._problem(
                label,
                _line(raw, "date"),
                f"{field}.date",
                f"{day} is outside the event's dates ({event.start_date} to {event.end_date})",
            )
            return
        guid = raw.get("guid")
        if guid is not None:
            if guid in self.guids:
                # Importers find a talk again by its guid: two talks with one would be merged.
                self._problem(
                    label,
                    _line(raw, "guid"),
                    f"{field}.guid",
                    f"{guid!r} is already the guid of talk {self.guids[guid]!r}",
                )
                return
            self.guids[guid] = slug
        not_recorded = bool(raw.get("do_not_record"))
        if not_recorded and raw.get("recording") is not None:
            self._problem(
                label,
                _line(raw, "recording"),
                f"{field}.recording",
                "a talk with do_not_record: true has no recording; remove one of the two",
            )
            return
        recording = (
            Recording()  # nothing to play, store or publish
            if not_recorded
            else self._recording(label, f"{field}.recording", raw.get("recording"), event, slug)
        )
        self.talks[slug] = Talk(
            slug=slug,
            event=event.slug,
            title=raw.get("title"),
            abstract=raw.get("abstract"),
            kind=raw.get("kind") or "talk",
            session=raw.get("session"),
            start=start,
            end=end,
            speakers=_dedupe(r.slug for r in speakers),
            recording_speakers=_dedupe(r.slug for r in recorded),
            recording=recording,
            former_slugs=tuple(r.slug for r in formers),
            tags=tuple(raw.get("tags") or ()),
            links=tuple(Link(x["title"], x["url"]) for x in raw.get("links") or ()),
            position=pos,
            date=day,
            language=raw.get("language"),
            guid=raw.get("guid"),
            code=raw.get("code"),
            do_not_record=not_recorded,
        )

    def _recording(
        self, label: str, field: str, raw: dict[str, Any] | None, event: Event, talk: str
    ) -> Recording:
        if raw is None:
            return Recording(key=default_recording_key(event.slug, talk))
        if raw.get("key") and raw.get("url"):
            self._problem(label, raw["__line__"], field, "give either key or url, not both")
        url = raw.get("url")
        poster_at = raw.get("poster_at")
        if poster_at is not None and url:
            self._problem(
                label,
                raw["__lines__"].get("poster_at", raw["__line__"]),
                f"{field}.poster_at",
                "vod media makes posters for recordings in the store (key), not external URLs",
            )
        duration = raw.get("duration")
        if isinstance(poster_at, int) and isinstance(duration, int) and poster_at >= duration:
            self._problem(
                label,
                raw["__lines__"].get("poster_at", raw["__line__"]),
                f"{field}.poster_at",
                f"{poster_at} s is not within the recording's duration ({duration} s)",
            )
        return Recording(
            key=None if url else raw.get("key") or default_recording_key(event.slug, talk),
            url=url,
            media_type=raw.get("media_type") or _guess_media_type(url or raw.get("key") or ".mp4"),
            duration=raw.get("duration"),
            poster=raw.get("poster"),
            poster_at=poster_at if isinstance(poster_at, int) else None,
            captions=tuple(
                Caption(
                    lang=c["lang"],
                    label=c.get("label") or c["lang"],
                    key=None if str(c["src"]).startswith("http") else c["src"],
                    url=c["src"] if str(c["src"]).startswith("http") else None,
                )
                for c in raw.get("captions") or ()
            ),
            chapters=tuple(
                sorted(
                    (Chapter(c["start"], c["title"]) for c in raw.get("chapters") or ()),
                    key=lambda c: c.start,
                )
            ),
        )

    def check_references(self) -> None:
        for label, field, ref in self.refs:
            if ref.slug not in self.speakers:
                hint = difflib.get_close_matches(ref.slug, self.speakers, n=1)
                self._problem(
                    label,
                    ref.line,
                    field,
                    f"unknown speaker {ref.slug!r}"
                    + (f"; did you mean {hint[0]!r}?" if hint else " (add it under speakers:)"),
                )
        for label, line, where, former in self.speaker_formers:
            if former in self.speakers:
                self._problem(label, line, where, f"{former!r} is the slug of another speaker")
        for former, current in self.redirects.items():
            if former in self.talks:
                self._problem(
                    self.events[self.talks[current].event].source,
                    None,
                    f"talks[{current}].former_slugs",
                    f"{former!r} is the slug of another talk",
                )


def _dedupe(slugs: Iterator[str] | Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(slugs))


MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mov": "video/mp4",
}


def _guess_media_type(ref: str) -> str:
    suffix = Path(ref.split("?", 1)[0]).suffix.lower()
    return MEDIA_TYPES.get(suffix, "video/mp4")


def validate_catalog(path: Path) -> tuple[Catalog | None, list[CatalogProblem]]:
    """Read and check the catalog at `path`; return it (or None) and every problem found."""
    problems: list[CatalogProblem] = []
    try:
        files = catalog_files(path)
    except CatalogError as exc:
        return None, exc.problems
    builder = _Builder(problems)
    digest = hashlib.sha256()
    base = path if path.is_dir() else path.parent
    for file in files:
        label = str(file.relative_to(base)) if path.is_dir() else str(file)
        if path.is_dir():
            label = str(path / label)
        with contextlib.suppress(OSError):  # an unreadable file is reported by _read_file
            digest.update(file.read_bytes())
        data = _read_file(file, label, problems)
        if data is not None:
            builder.add(label, data)
    builder.check_references()
    if problems:
        return None, problems
    catalog = Catalog(
        events=builder.events,
        talks=builder.talks,
        speakers=builder.speakers,
        redirects=builder.redirects,
        speaker_redirects=builder.speaker_redirects,
        digest=digest.hexdigest()[:16],
    )
    return catalog, []


def load_catalog(path: Path) -> Catalog:
    """Load the catalog at `path`, or raise CatalogError listing every problem."""
    catalog, problems = validate_catalog(path)
    if catalog is None:
        raise CatalogError(problems)
    return catalog
