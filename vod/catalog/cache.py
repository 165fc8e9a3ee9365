"""A cache of validated catalog files, so a 21,700-talk catalog loads in a fraction of a second.

Checking a large catalog (YAML parsing and every field's check) takes seconds; reading the
checked result back takes a tenth of that. Each catalog file's checked result (its events, talks,
speakers, the slugs it claims and the speakers it names) is cached under the sha256 of its
bytes, its label and the code that checks it; when files change, only those are read again, and
the checks that span files (duplicate slugs, unknown speakers) run on the combined result.

The cache is only a shortcut: an unreadable, corrupt or foreign entry is ignored and rebuilt,
an entry is never used by another version of vod (or of the checking code), and whenever
anything is wrong with the catalog the full uncached validation runs, so problems are reported
exactly as `validate_catalog` reports them.

Entries are JSON (records.py), which is only ever read as data: a pickle in the index folder
could run code in every process that loads the catalog (issue 10, item 4).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vod import __version__
from vod.catalog import loader, model, records
from vod.errors import CatalogError, CatalogProblem

if TYPE_CHECKING:
    from collections.abc import Iterator

    from vod.catalog.model import Catalog, Event, Speaker, Talk

log = logging.getLogger(__name__)

CACHE_FOLDER = ".catalog-cache"  # inside the index folder: generated data lives together
FORMAT = "vod-catalog-part 2"
# Entries not used by the latest load are removed once there are this many times more of them.
PRUNE_FACTOR = 3


def _code_fingerprint() -> str:
    """Identify the code that checks catalogs: vod's version, Python's, and the sources."""
    digest = hashlib.sha256(f"{__version__}|{sys.version}".encode())
    for module in (loader, model, records, sys.modules[__name__]):
        file = getattr(module, "__file__", None)
        if file:
            with contextlib.suppress(OSError):
                digest.update(Path(file).read_bytes())
    return digest.hexdigest()


_FINGERPRINT: str | None = None


def _fingerprint() -> str:
    global _FINGERPRINT
    if _FINGERPRINT is None:
        _FINGERPRINT = _code_fingerprint()
    return _FINGERPRINT


def digest(value: object) -> bytes:
    """Return a stable digest of a catalog object (a Talk, an Event, a Speaker)."""
    return hashlib.blake2b(pickle.dumps(value, protocol=5), digest_size=16).digest()


def catalog_cache_dir(index_dir: Path) -> Path:
    """Return the cache folder that goes with an index folder."""
    return index_dir / CACHE_FOLDER


@dataclass(frozen=True)
class _Part:
    """What one catalog file holds, checked on its own."""

    events: dict[str, Event]
    speakers: dict[str, Speaker]
    talks: dict[str, Talk]
    redirects: dict[str, str]
    speaker_redirects: dict[str, str]
    claims: tuple[str, ...]  # talk slugs, current and former, in file order
    refs: frozenset[str]  # speaker slugs its talks name
    guids: frozenset[str]  # its talks' guids, unique across the catalog
    fingerprints: dict[str, bytes]  # a digest of each of its events, talks and speakers


def _labels(path: Path, files: list[Path]) -> Iterator[tuple[Path, str]]:
    # The same labels as validate_catalog: problems and Event.source name files alike.
    for file in files:
        yield file, str(path / file.relative_to(path)) if path.is_dir() else str(file)


def _check_part(file: Path, label: str) -> _Part | None:
    """Check one file on its own; None when it has a problem (the full check reports it)."""
    problems: list[CatalogProblem] = []
    data = loader._read_file(file, label, problems)
    if data is None or problems:
        return None
    builder = loader._Builder(problems)
    builder.add(label, data)
    if problems:
        return None
    return _Part(
        events=builder.events,
        speakers=builder.speakers,
        talks=builder.talks,
        redirects=builder.redirects,
        speaker_redirects=builder.speaker_redirects,
        claims=tuple(builder.slug_owner),
        refs=frozenset(ref.slug for _, _, ref in builder.refs),
        guids=frozenset(builder.guids),
        fingerprints={
            f"{kind}:{slug}": digest(value)
            for kind, objects in (
                ("e", builder.events),
                ("t", builder.talks),
                ("s", builder.speakers),
            )
            for slug, value in objects.items()
        },
    )


def _combine(parts: list[_Part], catalog_digest: str) -> Catalog | None:
    """Combine checked files into one catalog; None when something spans files wrongly."""
    events: dict[str, Event] = {}
    speakers: dict[str, Speaker] = {}
    talks: dict[str, Talk] = {}
    redirects: dict[str, str] = {}
    speaker_redirects: dict[str, str] = {}
    claimed: set[str] = set()
    guids: set[str] = set()
    refs: set[str] = set()
    fingerprints: dict[str, bytes] = {}
    for part in parts:
        if not events.keys().isdisjoint(part.events) or not speakers.keys().isdisjoint(
            part.speakers
        ):
            return None
        if not claimed.isdisjoint(part.claims) or not guids.isdisjoint(part.guids):
            return None
        guids |= part.guids
        events.update(part.events)
        speakers.update(part.speakers)
        talks.update(part.talks)
        redirects.update(part.redirects)
        if not speaker_redirects.keys().isdisjoint(part.speaker_redirects):
            return None
        speaker_redirects.update(part.speaker_redirects)
        claimed.update(part.claims)
        refs |= part.refs
        fingerprints.update(part.fingerprints)
    if not refs <= speakers.keys() or not speakers.keys().isdisjoint(speaker_redirects):
        return None
    return model.Catalog(
        events=events,
        talks=talks,
        speakers=speakers,
        redirects=redirects,
        speaker_redirects=speaker_redirects,
        digest=catalog_digest,
        fingerprints=fingerprints,
    )


class _Store:
    """Checked parts as JSON in a folder, one file per (code, label, file bytes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def key(self, label: str, data: bytes) -> str:
        digest = hashlib.sha256(_fingerprint().encode())
        digest.update(label.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def get(self, key: str) -> _Part | None:
        try:
            body = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        try:
            if body["format"] != FORMAT or body["key"] != key:
                return None
            return _decode_part(body["part"])
        except Exception:  # corrupt or from another vod: rebuild, never fail the load
            log.debug("ignoring an unreadable catalog cache entry %s", key)
            return None

    def put(self, key: str, part: _Part) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            body = {"format": FORMAT, "key": key, "part": _encode_part(part)}
            tmp = self.folder / f".{key}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError as exc:  # a read-only index folder: load without the cache
            log.debug("cannot write the catalog cache in %s: %s", self.folder, exc)

    def prune(self, keep: set[str]) -> None:
        try:
            entries = [p for p in self.folder.glob("*.json") if p.stem not in keep]
            if len(entries) > PRUNE_FACTOR * max(len(keep), 1):
                for entry in entries:
                    entry.unlink(missing_ok=True)
        except OSError:
            pass


def _encode_part(part: _Part) -> dict[str, Any]:
    return {
        "events": records.encode(part.events),
        "speakers": records.encode(part.speakers),
        "talks": records.encode(part.talks),
        "redirects": part.redirects,
        "speaker_redirects": part.speaker_redirects,
        "claims": list(part.claims),
        "refs": sorted(part.refs),
        "guids": sorted(part.guids),
        "fingerprints": {k: v.hex() for k, v in part.fingerprints.items()},
    }


def _decode_part(raw: dict[str, Any]) -> _Part:
    event, speaker, talk = (records.decoder(c) for c in (model.Event, model.Speaker, model.Talk))
    return _Part(
        events={str(k): event(v) for k, v in raw["events"].items()},
        speakers={str(k): speaker(v) for k, v in raw["speakers"].items()},
        talks={str(k): talk(v) for k, v in raw["talks"].items()},
        redirects={str(k): str(v) for k, v in raw["redirects"].items()},
        speaker_redirects={str(k): str(v) for k, v in raw["speaker_redirects"].items()},
        claims=tuple(str(c) for c in raw["claims"]),
        refs=frozenset(str(r) for r in raw["refs"]),
        guids=frozenset(str(g) for g in raw["guids"]),
        fingerprints={str(k): bytes.fromhex(v) for k, v in raw["fingerprints"].items()},
    )


def validate_catalog_cached(
    path: Path, cache_dir: Path
) -> tuple[Catalog | None, list[CatalogProblem]]:
    """Like `validate_catalog`, reading unchanged files from the cache under `cache_dir`."""
    try:
        files = loader.catalog_files(path)
    except CatalogError as exc:
        return None, exc.problems
    # Reading the cache allocates many objects that hold no cycles: the collector only slows it.
    fresh: dict[str, _Part] = {}  # parts checked now, stored once the whole catalog loads
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        catalog, keys = _load_parts(path, files, _Store(cache_dir), fresh)
    finally:
        if gc_was_enabled:
            gc.enable()
    if catalog is None:
        return loader.validate_catalog(path)
    store = _Store(cache_dir)
    for key, part in fresh.items():  # only a catalog that loads is remembered
        store.put(key, part)
    store.prune(keys)
    return catalog, []


def _load_parts(
    path: Path, files: list[Path], store: _Store, fresh: dict[str, _Part]
) -> tuple[Catalog | None, set[str]]:
    digest = hashlib.sha256()
    keyed: list[tuple[Path, str, str]] = []
    for file, label in _labels(path, files):
        try:
            data = file.read_bytes()
        except OSError:
            return None, set()
        digest.update(data)
        keyed.append((file, label, store.key(label, data)))
    keys = {key for _, _, key in keyed}
    catalog_digest = digest.hexdigest()[:16]
    recent = _recent.get((str(path), str(store.folder)))
    if recent is not None and recent[0] == keys:
        return recent[1], keys  # the same files, loaded a moment ago in this process
    parts: list[_Part] = []
    for file, label, key in keyed:
        part = store.get(key)
        if part is None:
            part = _check_part(file, label)
            if part is None:
                return None, keys
            fresh[key] = part
        parts.append(part)
    catalog = _combine(parts, catalog_digest)
    if catalog is not None:
        # One catalog per path is remembered: `vod serve` with one worker loads it in the
        # command, then again in the app, in the same process (start-up target: 2 s).
        _recent[(str(path), str(store.folder))] = (keys, catalog)
    return catalog, keys


_recent: dict[tuple[str, str], tuple[set[str], Catalog]] = {}


def load_catalog_cached(path: Path, cache_dir: Path | None) -> Catalog:
    """Load the catalog at `path` through the cache (none when `cache_dir` is None)."""
    if cache_dir is None:
        return loader.load_catalog(path)
    catalog, problems = validate_catalog_cached(path, cache_dir)
    if catalog is None:
        raise CatalogError(problems)
    return catalog
