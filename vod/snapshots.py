"""Index snapshots in S3: publish a built version once, and let many hosts fetch it.

A snapshot is immutable and self-checking:

    <prefix>/<version>/files/...        the Whoosh files of the version, and meta.json
    <prefix>/<version>/catalog/...      the catalog files the version was built from
    <prefix>/<version>/manifest.json    every file with its size and sha256 (written last)
    <prefix>/LATEST                     the newest published version's name

A host downloads into a hidden folder, checks every size and checksum against the manifest,
then moves the folder into place and switches its CURRENT pointer exactly as a local build
does. A partial or corrupt snapshot is rejected and the previous version keeps serving. The
catalog travels with the index, so pages and search always agree.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vod.catalog import catalog_files
from vod.errors import VodError
from vod.index.build import META, IndexInfo, current_version, point_to, prune_versions

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
LATEST = "LATEST"
# The symlink (inside the index folder) through which a host reads the live snapshot's catalog.
LIVE_CATALOG = "live-catalog"
SNAPSHOT_FORMAT = 1


class SnapshotError(VodError):
    """A snapshot is missing, partial or corrupt; nothing was switched."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SnapshotStore:
    """Where snapshots live: a bucket, a key prefix and a boto3 S3 client."""

    client: Any
    bucket: str
    prefix: str = "_vod-index"

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p)

    def latest(self) -> str | None:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(LATEST))["Body"]
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
                return None
            raise
        name = body.read(200).decode("utf-8", "replace").strip()
        return name or None


def publish(store: SnapshotStore, info: IndexInfo, catalog_path: Path) -> str:
    """Upload the index version `info` and its catalog; return the version name."""
    version = info.path.name
    entries: list[dict[str, Any]] = []
    uploads: list[tuple[Path, str]] = []
    for path in sorted(p for p in info.path.rglob("*") if p.is_file()):
        uploads.append((path, f"files/{path.relative_to(info.path).as_posix()}"))
    base = catalog_path if catalog_path.is_dir() else catalog_path.parent
    for path in catalog_files(catalog_path):
        uploads.append((path, f"catalog/{path.relative_to(base).as_posix()}"))
    for path, name in uploads:
        store.client.upload_file(str(path), store.bucket, store.key(version, name))
        entries.append({"name": name, "size": path.stat().st_size, "sha256": _sha256(path)})
    manifest = {
        "format": SNAPSHOT_FORMAT,
        "version": version,
        "digest": info.digest,
        "documents": info.documents,
        "files": entries,
    }
    # The manifest goes last, then the pointer: a reader never sees a half-uploaded version.
    store.client.put_object(
        Bucket=store.bucket,
        Key=store.key(version, MANIFEST),
        Body=json.dumps(manifest, indent=2).encode(),
    )
    store.client.put_object(Bucket=store.bucket, Key=store.key(LATEST), Body=version.encode())
    log.info(
        "published index %s (%d files) to s3://%s/%s",
        version,
        len(entries),
        store.bucket,
        store.key(version),
    )
    return version


def _safe_name(name: str) -> str:
    parts = name.split("/")
    if not name or any(p in ("", ".", "..") for p in parts) or name.startswith("/"):
        raise SnapshotError(f"manifest names an unsafe path {name!r}")
    if parts[0] not in ("files", "catalog"):
        raise SnapshotError(f"manifest names a file outside files/ and catalog/: {name!r}")
    return name


def fetch(store: SnapshotStore, index_dir: Path, version: str | None = None) -> IndexInfo:
    """Download a snapshot (the latest by default), verify it and make it the live version."""
    from botocore.exceptions import BotoCoreError, ClientError

    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        version = version or store.latest()
        if version is None:
            raise SnapshotError(f"no snapshot published under s3://{store.bucket}/{store.prefix}")
        if "/" in version or version.startswith(".") or not version.startswith("v"):
            raise SnapshotError(f"LATEST names an invalid version {version!r}")
        live = current_version(index_dir)
        if live is not None and live.path.name == version:
            return live
        raw = store.client.get_object(Bucket=store.bucket, Key=store.key(version, MANIFEST))
        manifest = json.loads(raw["Body"].read())
        if manifest.get("format") != SNAPSHOT_FORMAT or manifest.get("version") != version:
            raise SnapshotError(f"snapshot {version} has an unknown manifest format")
        staging = index_dir / f".fetching-{version}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            for entry in manifest["files"]:
                name = _safe_name(str(entry["name"]))
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                store.client.download_file(store.bucket, store.key(version, name), str(target))
                if target.stat().st_size != entry["size"] or _sha256(target) != entry["sha256"]:
                    raise SnapshotError(f"snapshot {version}: {name} does not match its checksum")
            if not (staging / "files" / META).is_file():
                raise SnapshotError(f"snapshot {version} has no {META}")
            final = index_dir / version
            (staging / "files").rename(staging / "index")
            shutil.rmtree(final, ignore_errors=True)
            # The version folder holds the index files; the catalog sits beside, inside it.
            (staging / "index").rename(final)
            if (staging / "catalog").exists():
                (staging / "catalog").rename(final / "catalog")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except (ClientError, BotoCoreError, KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"cannot fetch snapshot {version}: {exc}") from exc
    info = IndexInfo.read(final)
    if info is None or info.digest != manifest.get("digest"):
        shutil.rmtree(final, ignore_errors=True)
        raise SnapshotError(f"snapshot {version} has a damaged meta.json")
    _point_catalog(index_dir, final / "catalog")
    point_to(index_dir, version)
    prune_versions(index_dir)
    log.info("fetched index snapshot %s (%d talks)", version, info.documents)
    return info


def _point_catalog(index_dir: Path, target: Path) -> None:
    link = index_dir / LIVE_CATALOG
    tmp = index_dir / f".{LIVE_CATALOG}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.relative_to(index_dir))
    os.replace(tmp, link)


def live_catalog_path(index_dir: Path) -> Path:
    """Return the path through which a snapshot host reads the live catalog."""
    return index_dir / LIVE_CATALOG


class SnapshotPoller:
    """Fetch newer snapshots every `interval` seconds until stopped; failures keep serving."""

    def __init__(self, store: SnapshotStore, index_dir: Path, interval: float) -> None:
        self.store = store
        self.index_dir = index_dir
        self.interval = interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="vod-snapshots", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                fetch(self.store, self.index_dir)
            except SnapshotError as exc:
                log.error("snapshot rejected, previous index keeps serving: %s", exc)
            except Exception:
                log.exception("snapshot poll failed; previous index keeps serving")


def snapshot_store(bucket: str, prefix: str, timeout: float) -> SnapshotStore:
    """Build a SnapshotStore with an S3 client configured like the recordings store."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout,
        read_timeout=max(timeout, 10.0),
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return SnapshotStore(boto3.client("s3", config=config), bucket, prefix)
