"""Build index versions beside the live one and switch to them atomically.

Layout of the index folder:

    index/
      CURRENT                      name of the live version (replaced atomically with os.replace)
      v20241127T101500-<digest>/   one complete Whoosh index, plus meta.json, never modified
      LOCK                         held by the one build writing here (lock.py)

Rebuilding inside the live folder breaks concurrent searches, and overwriting a file under a live
searcher can kill the worker (SIGBUS). So a build writes a new folder, and only a complete build
moves the pointer. A build that fails or is killed leaves the pointer, and so the live index,
untouched; its half-written folder is removed by the next build.

meta.json names the catalog the version was built from (identity.py), when that catalog was
read, and the size and checksum of every file (integrity.py). One build at a time writes to a
folder, and it never replaces a version of another catalog that a server is using, nor one
made from a later read of the same catalog (issue 10, items 1 and 8).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from whoosh import index as whoosh_index

from vod import __version__
from vod.config import catalog_identity
from vod.errors import StorageUnavailable, VodError
from vod.index.analysis import TEXT_ANALYZER
from vod.index.facets import FACETS_FILE, facet_record, facets_file
from vod.index.fingerprints import write_talk_state
from vod.index.integrity import fsync_path, fsync_tree, record_files
from vod.index.lock import build_lock
from vod.index.schema import FIELD_BOOSTS, make_schema, talk_document
from vod.index.scoring import write_frequent_terms
from vod.index.spelling import write_spelling
from vod.index.transcript import MAX_CAPTION_BYTES, Cue, cue_records, parse_vtt
from vod.index.writers import cancel, commit, fast_writer
from vod.outbound import Allowed, HostDown, allowed_from_env, fetch_text

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk
    from vod.storage import Storage

log = logging.getLogger(__name__)

POINTER = "CURRENT"
META = "meta.json"
# Bump when the schema or the documents change shape, so older indexes are rebuilt.
# 2: English text is stemmed with Snowball (Porter2) instead of Porter.
# 4: transcripts from captions, facet fields, a sortable date, facets.json beside the index.
# 5: the catalog's identity, and every file's size and checksum in meta.json; talks.json.
# 6: tech names (C++, C#, .NET, a/b), compounds also closed, agent nouns meet verbs (#12).
# 7: snake_case split like compounds; single digits kept (PEP 8, Python 3).
# 8: the abstract's analysed words and spans stored for its snippets (snippets.word_stream).
#    Bump also when the analysis changes: those words are read back as they were written.
# 9: the title's and the presenters' too.
# 10: stored fields kept uncompressed (codec.py): a search hit reads them in a third of the time.
# 11: a run of CJK letters (Hangul, kana, ideographs) is a token apart from the letters it
#     touches: `Pythonで` has `python` (analysis._CJK).
INDEX_FORMAT = 11
# Complete versions kept besides the live one, for searches still running on them.
KEEP_PREVIOUS = 2
# Per-process files naming the version each searching process reads (see write_lease).
LEASES = ".leases"
# An unfinished build folder older than this is abandoned (its builder died) and removed.
ABANDONED_AFTER = 3600.0

IndexState = Literal["missing", "stale", "current"]


class IndexConflict(VodError):
    """A build that must not replace the live version (another catalog's, or a newer one)."""


class NewerIndexLive(IndexConflict):
    """The live version was built from a later read of the same catalog."""


@dataclass(frozen=True)
class IndexInfo:
    """What meta.json says about one index version."""

    path: Path
    digest: str
    documents: int
    built_at: str
    format: int
    # The identity of the catalog it was built from (identity.py); None: not recorded.
    catalog: str | None = None
    # When that catalog was read (a Unix time): a build never replaces a later read's version.
    catalog_as_of: float = 0.0

    @classmethod
    def read(cls, path: Path) -> IndexInfo | None:
        try:
            raw = json.loads((path / META).read_text())
            catalog = raw.get("catalog")
            return cls(
                path,
                raw["digest"],
                raw["documents"],
                raw["built_at"],
                raw["format"],
                catalog if isinstance(catalog, str) else None,
                float(raw.get("catalog_as_of", 0.0)),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def belongs_to(self, catalog: str | None) -> bool:
        """Tell whether this version may serve the catalog with identity `catalog`.

        A version or a caller that names no catalog (the library used directly) matches any.
        """
        return self.catalog is None or catalog is None or self.catalog == catalog

    def recorded_files(self) -> dict[str, Any] | None:
        """The size and checksum of each file, as recorded when it was built (or None)."""
        try:
            files = json.loads((self.path / META).read_text()).get("files")
        except (OSError, ValueError, AttributeError):
            return None
        return files if isinstance(files, dict) else None


def current_version(index_dir: Path) -> IndexInfo | None:
    """Return the live index version, or None when there is none (or it is damaged)."""
    try:
        name = (index_dir / POINTER).read_text().strip()
    except OSError:
        return None
    if not name or "/" in name or name.startswith("."):
        return None
    return IndexInfo.read(index_dir / name)


def index_state(index_dir: Path, catalog: Catalog, source: Path | None = None) -> IndexState:
    """Tell whether the index is missing, built from another catalog, or current.

    `source` is where `catalog` was read from: a version of another catalog is "stale".
    """
    info = current_version(index_dir)
    if info is None:
        return "missing"
    identity = None if source is None else catalog_identity(source)
    if (
        info.digest != catalog.digest
        or info.format != INDEX_FORMAT
        or not info.belongs_to(identity)
    ):
        return "stale"
    return "current"


def index_error(exc: BaseException, index_dir: Path) -> str:
    """Say in one line why a build into `index_dir` failed (for the command line)."""
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot write the index in {index_dir}: {exc.strerror or exc}{where}"
    return str(exc)


def own_versions(index_dir: Path, identity: str | None) -> list[IndexInfo]:
    """Every complete version of the catalog `identity` in this format, newest first."""
    found = []
    for path in index_dir.glob("v*"):
        info = IndexInfo.read(path) if path.is_dir() else None
        if info is not None and info.format == INDEX_FORMAT and info.belongs_to(identity):
            found.append(info)
    return sorted(found, key=lambda i: i.path.name, reverse=True)


def check_replaceable(index_dir: Path, identity: str | None, as_of: float) -> None:
    """Raise IndexConflict when a build of catalog `identity` read at `as_of` must not go live.

    Call it holding the build lock, so the live version cannot change before the switch.
    """
    live = current_version(index_dir)
    if live is None:
        return
    if not live.belongs_to(identity):
        if live.path.name in leased_versions(index_dir):
            raise IndexConflict(
                f"{index_dir} holds the index of another catalog ({live.catalog}), and a "
                "running server uses it; index this catalog into another folder "
                "(VOD_INDEX_DIR, or leave it unset: each catalog then gets its own)"
            )
        return
    if live.catalog_as_of > as_of:
        raise NewerIndexLive(
            f"the live index {live.path.name} was built from a later read of the catalog; "
            "this build would go back to an older one, so it was not made live"
        )


def build_index(
    catalog: Catalog,
    index_dir: Path,
    progress: Callable[[int], Any] | None = None,
    storage: Storage | None = None,
    parallel: bool = False,
    *,
    source: Path | None = None,
    as_of: float | None = None,
) -> IndexInfo:
    """Write a new index version from `catalog`, then make it the live one.

    `parallel` writes a large catalog with two processes (writers.py): for the command line
    only, never inside a server, where forking a process with threads is not safe.

    With `storage`, captions are read from the store and indexed as transcripts, and a talk
    "has a recording" when its file is in the store; without it, only the catalog is read.

    `source` is where the catalog was read from (its identity is recorded), and `as_of` when
    (default: now). Raises IndexConflict when the version must not replace the live one.
    """
    as_of = time.time() if as_of is None else as_of
    identity = None if source is None else catalog_identity(source)
    with build_lock(index_dir):
        check_replaceable(index_dir, identity, as_of)
        return build_locked(catalog, index_dir, progress, storage, parallel, identity, as_of)


def build_locked(
    catalog: Catalog,
    index_dir: Path,
    progress: Callable[[int], Any] | None,
    storage: Storage | None,
    parallel: bool,
    identity: str | None,
    as_of: float,
) -> IndexInfo:
    """Build a version as `build_index` does, the build lock being held by the caller."""
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = index_dir / f"v{stamp}-{catalog.digest}"
    # Built under a dot-name, so no reader can mistake it for a version until it is complete.
    building = index_dir / f".building-{target.name}-{os.getpid()}"
    building.mkdir()
    try:
        ix = whoosh_index.create_in(str(building), make_schema())
        # Two writer processes for a large catalog, one otherwise (writers.py, issue #5).
        writer = fast_writer(ix, len(catalog.talks), parallel)
        try:
            count = 0
            store = _Store(storage)
            records = []
            for talk in catalog.talks.values():
                document, record = talk_entry(catalog, talk, store)
                writer.add_document(**document)
                records.append(record)
                count += 1
                if progress is not None:
                    progress(1)
            commit(writer)
        except BaseException:
            cancel(writer)
            raise
        with ix.reader() as reader:
            write_spelling(reader, building)
            write_frequent_terms(reader, building, FIELD_BOOSTS)
        ix.close()
        (building / FACETS_FILE).write_text(
            json.dumps(facets_file(catalog, records), ensure_ascii=False, separators=(",", ":"))
        )
        write_talk_state(building, catalog, records)  # for incremental updates
        meta = {
            "digest": catalog.digest,
            "documents": count,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "format": INDEX_FORMAT,
            "vod": __version__,
            "catalog": identity,
            "catalog_as_of": as_of,
        }
        info = complete_version(index_dir, building, target, meta)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    log.info("index %s is live (%d talks)", target.name, count)
    return info


def complete_version(
    index_dir: Path,
    building: Path,
    target: Path,
    meta: dict[str, Any],
    known: dict[str, tuple[int, list[Any]]] | None = None,
) -> IndexInfo:
    """Finish a version built under its hidden name: meta.json, move into place, go live.

    Every file's size and checksum go into meta.json (`known` holds those of files linked
    from a version already checked), and everything is on disk before the pointer moves.
    """
    meta = {**meta, "files": record_files(building, known)}
    (building / META).write_text(json.dumps(meta, indent=2))
    fsync_tree(building)
    building.rename(target)
    fsync_path(index_dir)
    point_to(index_dir, target.name)
    info = IndexInfo.read(target)
    assert info is not None
    prune_versions(index_dir)
    return info


def talk_entry(
    catalog: Catalog, talk: Talk, store: _Store
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a talk's index document and its facet record (captions read from the store)."""
    document = talk_document(catalog, talk)
    has_recording = store.has_recording(talk)
    cues = store.transcript(talk)
    document["has_recording"] = "1" if has_recording else "0"
    if cues:
        document["transcript"] = "\n".join(c.text for c in cues)
        document["cues"] = cue_records(cues, TEXT_ANALYZER)
    return document, facet_record(catalog, talk, document)


class _Store:
    """What a build asks the recording store: is the video there, and what do its captions say.

    A caption that is missing or unreadable is logged and skipped: it never fails a build. When
    the store stops answering, the build stops asking and goes on with the catalog alone.
    """

    def __init__(self, storage: Storage | None) -> None:
        self.storage = storage
        self.down = False
        self.hosts_down: set[str] = set()  # caption hosts that did not answer in this build
        self._allowed: Allowed | None = None  # VOD_FETCH_ALLOW, read on the first fetch

    def _ask(self, what: str, call: Callable[[Storage], Any]) -> Any:
        if self.storage is None or self.down:
            return None
        try:
            return call(self.storage)
        except StorageUnavailable as exc:
            self.down = True
            log.warning("recording store unavailable while indexing (%s): %s", what, exc)
        except ValueError as exc:  # an unsafe key, a file too large or not UTF-8
            log.warning("skipping %s: %s", what, exc)
        return None

    def has_recording(self, talk: Talk) -> bool:
        """Tell whether a viewer can watch the talk: an external video, or a file in the store."""
        key = talk.recording.key
        if talk.recording.url or key is None:
            return bool(talk.recording.url)
        found = self._ask(f"the recording of {talk.slug}", lambda store: store.exists(key))
        # No store, or a store that does not answer: trust the catalog, which lists a recording.
        return True if found is None else bool(found)

    def transcript(self, talk: Talk) -> list[Cue]:
        """Read the talk's captions (English first) as timed cues: from the store when a
        track has a key, else fetched from its URL (vod/outbound.py)."""
        captions = talk.recording.captions
        english = [c for c in captions if c.lang.lower().startswith("en")]
        ordered = english + [c for c in captions if c not in english]
        keys = [c.key for c in ordered if c.key]
        urls = [c.url for c in ordered if c.url]
        if keys:
            key = keys[0]
            what = f"captions {key!r} of {talk.slug}"
            text = self._ask(what, lambda store: store.read_text(key, MAX_CAPTION_BYTES))
            if text is None and self.storage is not None and not self.down:
                log.warning("skipping %s: not in the store", what)
        elif urls:
            what = f"captions {urls[0]} of {talk.slug}"
            text = self._fetch(what, urls[0])
        else:
            return []
        if text is None:
            return []
        try:
            return parse_vtt(text)
        except ValueError as exc:
            log.warning("skipping %s: %s", what, exc)
            return []

    def _fetch(self, what: str, url: str) -> str | None:
        try:
            host = urlsplit(url).netloc
        except ValueError:
            log.warning("skipping %s: %r is not a URL", what, url)
            return None
        if host in self.hosts_down:
            return None
        if self._allowed is None:
            self._allowed = allowed_from_env()
        try:
            # A refused internal address is a ValueError: skipped with a warning naming the
            # talk, and the build goes on (issue #10 item 3).
            text = fetch_text(url, MAX_CAPTION_BYTES, allow=self._allowed)
        except HostDown as exc:
            self.hosts_down.add(host)
            log.warning("skipping %s and every other caption from %s: %s", what, host, exc)
            return None
        except ValueError as exc:
            log.warning("skipping %s: %s", what, exc)
            return None
        if text is None:
            log.warning("skipping %s: not found", what)
        return text


def point_to(index_dir: Path, name: str) -> None:
    """Make version `name` the live one (an atomic replace of the CURRENT pointer)."""
    tmp = index_dir / f".{POINTER}.{os.getpid()}.tmp"
    tmp.write_text(name + "\n")
    fsync_path(tmp)
    os.replace(tmp, index_dir / POINTER)
    fsync_path(index_dir)  # the rename itself survives a crash


def prune_versions(index_dir: Path) -> list[Path]:
    """Remove old complete versions and abandoned builds; return what was removed."""
    live = current_version(index_dir)
    removed: list[Path] = []
    versions = sorted(
        (p for p in index_dir.glob("v*") if p.is_dir() and (live is None or p != live.path)),
        key=lambda p: p.name,
        reverse=True,
    )
    in_use = leased_versions(index_dir)
    for old in versions[KEEP_PREVIOUS:]:
        if old.name in in_use:
            continue  # a running process still searches it; a later build removes it
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    now = time.time()
    for partial in index_dir.glob(".building-*"):
        pid = partial.name.rsplit("-", 1)[-1]
        try:
            # A live builder may finish (rename its folder) between the glob and the stat.
            age = now - partial.stat().st_mtime
        except FileNotFoundError:
            continue
        if not _pid_alive(pid) or age > ABANDONED_AFTER:
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
    return removed


def write_lease(index_dir: Path, version: str) -> None:
    """Record that this process searches `version` (one small file per process)."""
    leases = index_dir / LEASES
    try:
        leases.mkdir(exist_ok=True)
        tmp = leases / f".{os.getpid()}.tmp"
        tmp.write_text(version)
        os.replace(tmp, leases / str(os.getpid()))
    except OSError as exc:  # a read-only index folder: searching still works
        log.warning("cannot record the index version in use: %s", exc)


def leased_versions(index_dir: Path) -> set[str]:
    """Return the versions that live processes search; forget the leases of dead ones."""
    in_use: set[str] = set()
    for lease in (index_dir / LEASES).glob("[0-9]*"):
        if not _pid_alive(lease.name):
            lease.unlink(missing_ok=True)
            continue
        try:
            in_use.add(lease.read_text().strip())
        except OSError:
            continue
    return in_use


def _pid_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
