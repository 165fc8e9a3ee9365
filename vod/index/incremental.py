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

When there is no usable live version (none, another index format, no fingerprints), or more
than a fifth of the catalog changed, it runs a full build instead. `vod index --full` forces one,
for instance after recordings or captions changed in the store but not in the catalog.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index as whoosh_index

from vod import __version__
from vod.index import whoosh_fixes
from vod.index.build import (
    INDEX_FORMAT,
    IndexInfo,
    _Store,
    build_index,
    complete_version,
    current_version,
    talk_entry,
)
from vod.index.facets import FACETS_FILE, facets_file
from vod.index.fingerprints import (
    Fingerprint,
    read_talk_state,
    talk_fingerprint,
    write_talk_state,
)
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
) -> IndexInfo:
    """Make the index match `catalog`, re-indexing only what changed when it can.

    `parallel` lets a full build use two writer processes (command line only: see build_index).
    """
    with _collector_paused():
        return _update_index(catalog, index_dir, progress, storage, full, parallel)


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
) -> IndexInfo:
    live = current_version(index_dir)
    state = read_talk_state(live.path) if live and live.format == INDEX_FORMAT else None

    def build() -> IndexInfo:
        return build_index(
            catalog, index_dir, progress=progress, storage=storage, parallel=parallel
        )

    if full or live is None or state is None:
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
    if not changed and not removed and live.digest == catalog.digest:
        return live
    if len(changed) + len(removed) > FULL_BUILD_SHARE * max(len(catalog.talks), 1):
        log.info("%d talks changed: a full build", len(changed) + len(removed))
        return build()
    return _update(catalog, index_dir, live, state, changed, removed, store, progress, fingerprints)


def _update(
    catalog: Catalog,
    index_dir: Path,
    live: IndexInfo,
    state: Any,
    changed: list[str],
    removed: list[str],
    store: _Store,
    progress: Callable[[int], Any] | None,
    fingerprints: dict[str, Fingerprint],
) -> IndexInfo:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = index_dir / f"v{stamp}-{catalog.digest}"
    building = index_dir / f".building-{target.name}-{os.getpid()}"
    building.mkdir()
    try:
        for path in _whoosh_files(live.path):
            _link(path, building / path.name)
        for name in CARRIED:
            if (live.path / name).exists():
                _link(live.path / name, building / name)
        whoosh_fixes.apply()
        ix = whoosh_index.open_dir(str(building))
        records = {slug: record for slug, (_, record) in state.talks.items()}
        changed_set = set(changed)
        writer = ix.writer()
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
            "updated_from": live.path.name,
            "changed": len(changed),
            "removed": len(removed),
        }
        info = complete_version(index_dir, building, target, meta)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    log.info(
        "index %s is live: %d talks re-indexed, %d removed", target.name, len(changed), len(removed)
    )
    return info
