"""Bring the index up to date by re-indexing only the talks that changed.

A full build of 21,700 talks takes tens of seconds; an organizer fixing one title should not
wait for it. `update_index` makes the new version from the live one:

1. It compares each talk's fingerprint (fingerprints.py: the talk, its event, its speakers,
   whether its recording is there) with those kept beside the live version, to find the talks
   that changed, appeared or went away.
2. It links the live version's Whoosh files into a new build folder (hard links: Whoosh never
   rewrites a file it has written, it only adds segments and a new table of contents), deletes
   the documents of removed talks and replaces those of changed ones, by slug, in one small new
   segment. Whoosh's default merge policy folds small segments together and leaves the large
   one alone; a full `optimize` would rewrite everything and take longer than the build.
3. It writes the facets file from the kept facet records plus the changed talks' ones, keeps
   the spelling tables of the live version (new words join them at the next full build), and
   switches to the new version atomically, like a full build.

The version it starts from is the live one when it belongs to the same catalog, else the newest
version of that catalog still in the folder (two catalogs indexed into one folder in turn are
each updated, not rebuilt). Its files are checked against their recorded checksums first: they
are hard-linked into the new version, so a damaged one would be carried on (integrity.py).

When there is no usable version to start from (none, another index format, no fingerprints,
damaged files), or more than a fifth of the catalog changed, it runs a full build instead.
`vod index --full` forces one, for instance after recordings or captions changed in the store
but not in the catalog.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index as whoosh_index

from vod import __version__
from vod.config import catalog_identity
from vod.index import whoosh_fixes
from vod.index.build import (
    INDEX_FORMAT,
    IndexInfo,
    NewerIndexLive,
    _Store,
    build_locked,
    check_replaceable,
    complete_version,
    current_version,
    index_state,
    own_versions,
    point_to,
    prune_versions,
    talk_entry,
)
from vod.index.codec import codec
from vod.index.facets import FACETS_FILE, facets_file
from vod.index.fingerprints import (
    Fingerprint,
    TalkState,
    read_talk_state,
    talk_fingerprint,
    write_talk_state,
)
from vod.index.integrity import DamagedIndex, check_files
from vod.index.lock import build_lock
from vod.index.scoring import FREQUENT_FILE
from vod.index.spelling import SPELLING_TABLE, SPELLING_WORDS

if TYPE_CHECKING:
    from vod.catalog import Catalog
    from vod.storage import Storage

log = logging.getLogger(__name__)

# Above this share of the catalog changed, a full build is as fast and leaves fewer segments.
FULL_BUILD_SHARE = 0.2
# Files of the live version carried over as they are (Whoosh's own files are linked too).
CARRIED = (SPELLING_WORDS, SPELLING_TABLE, FREQUENT_FILE)


def _whoosh_files(folder: Path) -> list[Path]:
    """The live version's Whoosh files: tables of contents and segments, not its lock."""
    return [
        p
        for p in folder.iterdir()
        if p.is_file()
        and (p.name.startswith("_MAIN_") or p.name.startswith("MAIN_"))
        and p.name != "MAIN_WRITELOCK"
    ]


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: copy instead
        shutil.copy2(source, target)


def update_index(
    catalog: Catalog,
    index_dir: Path,
    progress: Callable[[int], Any] | None = None,
    storage: Storage | None = None,
    *,
    full: bool = False,
    parallel: bool = False,
    source: Path | None = None,
    as_of: float | None = None,
    waiting: Callable[[str], None] | None = None,
) -> IndexInfo:
    """Make the index match `catalog`, re-indexing only what changed when it can.

    `parallel` lets a full build use two writer processes (command line only: see build_index).
    `source` is where the catalog was read from and `as_of` when (default: now); `waiting` is
    told when another build holds the folder. Raises IndexConflict when the new version must
    not replace the live one (build.check_replaceable).
    """
    as_of = time.time() if as_of is None else as_of
    identity = None if source is None else catalog_identity(source)
    with build_lock(index_dir, waiting=waiting), _collector_paused():
        check_replaceable(index_dir, identity, as_of)
        return _update_index(catalog, index_dir, progress, storage, full, parallel, identity, as_of)


def update_at_startup(
    catalog: Catalog, index_dir: Path, source: Path, storage: Storage | None = None
) -> None:
    """Bring the index up to date at a server's start-up, as `vod index` does (incremental).

    A live version made from a later read of the catalog is kept; a folder whose live version
    belongs to another catalog that a running server uses raises IndexConflict.
    """
    state = index_state(index_dir, catalog, source)
    if state == "current":
        return  # each worker starts here: no fingerprints compared when nothing changed
    log.info("index is %s; bringing it up to date with the catalog", state)
    try:
        update_index(catalog, index_dir, storage=storage, source=source)
    except NewerIndexLive as exc:
        log.info("%s", exc)


@contextmanager
def _collector_paused() -> Iterator[None]:
    # Comparing 21,700 fingerprints and writing the facets allocates a million small objects
    # and no cycles; the cyclic collector ran for half of an update's time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _update_index(
    catalog: Catalog,
    index_dir: Path,
    progress: Callable[[int], Any] | None,
    storage: Storage | None,
    full: bool,
    parallel: bool,
    identity: str | None,
    as_of: float,
) -> IndexInfo:
    base = _base_version(index_dir, identity)
    state = read_talk_state(base.path) if base is not None else None

    def build() -> IndexInfo:
        return build_locked(catalog, index_dir, progress, storage, parallel, identity, as_of)

    if full or base is None or state is None:
        return build()
    store = _Store(storage)
    fingerprints: dict[str, Fingerprint] = {}
    changed: list[str] = []
    for slug, talk in catalog.talks.items():
        old = state.talks.get(slug)
        # Only talks in the store are asked about; the rest keep what the catalog says.
        flag = old[1]["recording"] if old is not None else "1"
        if talk.recording.key is not None and storage is not None:
            flag = "1" if store.has_recording(talk) else "0"
        fingerprints[slug] = fingerprint = talk_fingerprint(catalog, talk, flag)
        if old is None or old[0] != fingerprint:
            changed.append(slug)
    removed = [slug for slug in state.talks if slug not in catalog.talks]
    if not changed and not removed and base.digest == catalog.digest:
        live = current_version(index_dir)
        if live is None or live.path != base.path:
            point_to(index_dir, base.path.name)  # back to this catalog's own version
            prune_versions(index_dir)
        return base
    if len(changed) + len(removed) > FULL_BUILD_SHARE * max(len(catalog.talks), 1):
        log.info("%d talks changed: a full build", len(changed) + len(removed))
        return build()
    try:
        # The new version links the base's files: never carry a damaged one on.
        files = base.recorded_files()
        check_files(base.path, files)
    except DamagedIndex as exc:
        log.warning("index %s is damaged (%s): a full build", base.path.name, exc)
        return build()
    return _update(
        catalog,
        index_dir,
        base,
        state,
        changed,
        removed,
        store,
        progress,
        fingerprints,
        (identity, as_of, files or {}),
    )


def _base_version(index_dir: Path, identity: str | None) -> IndexInfo | None:
    """The version an update starts from: the live one, or the newest of the same catalog."""
    live = current_version(index_dir)
    if live is not None and live.belongs_to(identity):
        return live if live.format == INDEX_FORMAT else None
    versions = own_versions(index_dir, identity)
    return versions[0] if versions else None


def _update(
    catalog: Catalog,
    index_dir: Path,
    live: IndexInfo,
    state: TalkState,
    changed: list[str],
    removed: list[str],
    store: _Store,
    progress: Callable[[int], Any] | None,
    fingerprints: dict[str, Fingerprint],
    origin: tuple[str | None, float, dict[str, Any]],
) -> IndexInfo:
    identity, as_of, checked = origin
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = index_dir / f"v{stamp}-{catalog.digest}"
    building = index_dir / f".building-{target.name}-{os.getpid()}"
    building.mkdir()
    linked: dict[str, tuple[int, list[Any]]] = {}  # checked files linked: not hashed again
    try:
        carried = [live.path / name for name in CARRIED if (live.path / name).exists()]
        for path in [*_whoosh_files(live.path), *carried]:
            _link(path, building / path.name)
            if path.name in checked:
                linked[path.name] = (path.stat().st_ino, checked[path.name])
        whoosh_fixes.apply()
        ix = whoosh_index.open_dir(str(building))
        records = {slug: record for slug, (_, record) in state.talks.items()}
        changed_set = set(changed)
        writer = ix.writer(codec=codec())  # new segments as a full build writes them
        try:
            for slug in removed:
                writer.delete_by_term("slug", slug)
                records.pop(slug, None)
            for slug in changed:
                document, record = talk_entry(catalog, catalog.talks[slug], store)
                writer.update_document(**document)
                records[slug] = record
                if progress is not None:
                    progress(1)
            writer.commit()  # merges small segments only: the big one is left as it is
        except BaseException:
            writer.cancel()
            raise
        count = ix.doc_count()
        ix.close()
        ordered = [records[slug] for slug in catalog.talks]
        (building / FACETS_FILE).write_text(
            json.dumps(facets_file(catalog, ordered), ensure_ascii=False, separators=(",", ":"))
        )
        # A changed talk's flag may differ from what the store said (its record has the truth).
        known = {slug: fp for slug, fp in fingerprints.items() if slug not in changed_set}
        write_talk_state(building, catalog, ordered, known)
        meta = {
            "digest": catalog.digest,
            "documents": count,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "format": INDEX_FORMAT,
            "vod": __version__,
            "catalog": identity,
            "catalog_as_of": as_of,
            "updated_from": live.path.name,
            "changed": len(changed),
            "removed": len(removed),
        }
        info = complete_version(index_dir, building, target, meta, linked)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    log.info(
        "index %s is live: %d talks re-indexed, %d removed", target.name, len(changed), len(removed)
    )
    return info
