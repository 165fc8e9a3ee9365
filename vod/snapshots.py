"""Index snapshots in S3: publish a built version once, and let many hosts fetch it.

A snapshot is immutable and self-checking:

    <prefix>/<version>/files/...        the Whoosh files of the version, and meta.json
    <prefix>/<version>/catalog/...      the catalog files the version was built from
    <prefix>/<version>/manifest.sig     HMAC-SHA256 of manifest.json's bytes, keyed by
                                        VOD_SNAPSHOT_KEY
    <prefix>/<version>/manifest.json    every file with its size and sha256 (written last)
    <prefix>/LATEST                     the newest published version's name

A host downloads into a hidden folder, checks every size and checksum against the manifest,
then moves the folder into place and switches its CURRENT pointer exactly as a local build
does. A partial or corrupt snapshot is rejected and the previous version keeps serving. The
catalog travels with the index, so pages and search always agree.

Anyone who can write to the bucket could once forge a well-formed snapshot, and Whoosh reads
its table of contents with pickle: code run on every host (issue 10, item 4). So the manifest
is signed with a secret that never lives in the bucket (HMAC-SHA256: one shared secret between
the publisher and its hosts, no key pair to manage), and a host checks the signature before
it parses the manifest, and every file against it before anything is opened. A rejected
snapshot is logged and written to `.snapshot-status.json`, which /healthz reports; a host never
goes back to a version older than the one it serves (a replayed LATEST).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vod.catalog import catalog_files
from vod.config import catalog_identity
from vod.errors import VodError
from vod.index.build import META, IndexInfo, current_version, point_to, prune_versions
from vod.index.integrity import fsync_tree
from vod.index.lock import build_lock

if TYPE_CHECKING:
    from vod.config import Settings

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SCHEME = "hmac-sha256"
MAX_MANIFEST = 16 << 20  # bytes; a pyvideo snapshot's manifest is ~10 kB
# Inside a fetched version: the manifest and signature it was verified with.
VERIFIED = "snapshot"
# Inside the index folder: what the last fetch did, for /healthz in every worker.
STATUS_FILE = ".snapshot-status.json"
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


def sign(secret: str, body: bytes) -> str:
    """Return the signature of a manifest's bytes: `hmac-sha256 <hex>`."""
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SCHEME} {mac}"


def signed_by(secret: str, body: bytes, signature: bytes) -> bool:
    """Tell whether `signature` is the signature of `body` with `secret` (constant time)."""
    expected = sign(secret, body).encode()
    return hmac.compare_digest(expected, signature.strip())


@dataclass(frozen=True)
class SnapshotStore:
    """Where snapshots live: a bucket, a key prefix and a boto3 S3 client; and the secret
    snapshots are signed with (VOD_SNAPSHOT_KEY), which never goes to the bucket."""

    client: Any
    bucket: str
    prefix: str = "_vod-index"
    secret: str | None = field(default=None, repr=False)

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
    """Upload the index version `info` and its catalog, signed; return the version name."""
    if not store.secret:
        raise SnapshotError(
            "publishing a snapshot needs VOD_SNAPSHOT_KEY: hosts serve only snapshots "
            "signed with it"
        )
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
    body = json.dumps(manifest, indent=2).encode()
    store.client.put_object(
        Bucket=store.bucket, Key=store.key(version, SIGNATURE), Body=sign(store.secret, body)
    )
    # The manifest goes last, then the pointer: a reader never sees a half-uploaded version.
    store.client.put_object(Bucket=store.bucket, Key=store.key(version, MANIFEST), Body=body)
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


def _get(store: SnapshotStore, version: str, name: str, limit: int) -> bytes:
    body = store.client.get_object(Bucket=store.bucket, Key=store.key(version, name))["Body"]
    data: bytes = body.read(limit + 1)
    if len(data) > limit:
        raise SnapshotError(f"snapshot {version}: {name} is larger than {limit} bytes")
    return data


def _verified_manifest(store: SnapshotStore, version: str) -> tuple[bytes, bytes]:
    """Download a manifest and its signature; raise SnapshotError unless it is signed."""
    from botocore.exceptions import ClientError

    assert store.secret
    body = _get(store, version, MANIFEST, MAX_MANIFEST)
    try:
        signature = _get(store, version, SIGNATURE, 1000)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
            raise SnapshotError(f"snapshot {version} is not signed: refused") from None
        raise
    if not signed_by(store.secret, body, signature):
        raise SnapshotError(
            f"snapshot {version} has a wrong signature: refused (was it published with this "
            "host's VOD_SNAPSHOT_KEY?)"
        )
    return body, signature


def install_snapshot(
    store: SnapshotStore, index_dir: Path, version: str | None = None
) -> IndexInfo:
    """Download a snapshot (the latest by default), verify it and make it the live version.

    Its manifest's signature is checked before anything else is read, and every file against
    the manifest before the version is moved into place; the outcome goes to the status file.
    """
    try:
        info = _fetch(store, index_dir, version)
    except SnapshotError as exc:
        _record(index_dir, "rejected", str(exc))
        raise
    _record(index_dir, "ok", f"serving snapshot {info.path.name}")
    return info


def _fetch(store: SnapshotStore, index_dir: Path, version: str | None) -> IndexInfo:
    from botocore.exceptions import BotoCoreError, ClientError

    if not store.secret:
        raise SnapshotError("serving snapshots needs VOD_SNAPSHOT_KEY, to verify them")
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
        if live is not None and version < live.path.name:
            raise SnapshotError(
                f"LATEST names {version}, older than the live {live.path.name}: not going back"
            )
        body, signature = _verified_manifest(store, version)
        manifest = json.loads(body)  # parsed only once its signature is known good
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
            (staging / "files" / VERIFIED).mkdir()
            (staging / "files" / VERIFIED / MANIFEST).write_bytes(body)
            (staging / "files" / VERIFIED / SIGNATURE).write_bytes(signature)
            if (staging / "catalog").exists():
                (staging / "catalog").rename(staging / "files" / "catalog")
            fsync_tree(staging / "files")
            final = index_dir / version
            # One writer at a time moves versions and the pointer (index/lock.py).
            with build_lock(index_dir):
                shutil.rmtree(final, ignore_errors=True)
                # The version folder holds the index files, and its catalog inside it.
                (staging / "files").rename(final)
                info = IndexInfo.read(final)
                if info is None or info.digest != manifest.get("digest"):
                    shutil.rmtree(final, ignore_errors=True)
                    raise SnapshotError(f"snapshot {version} has a damaged meta.json")
                _point_catalog(index_dir, final / "catalog")
                point_to(index_dir, version)
                prune_versions(index_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except (ClientError, BotoCoreError, KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"cannot fetch snapshot {version}: {exc}") from exc
    log.info("fetched index snapshot %s (%d talks)", version, info.documents)
    return info


def verify_local(index_dir: Path, secret: str | None) -> IndexInfo:
    """Check the snapshot already live here as a fetch does; raise SnapshotError if it fails.

    A host that cannot reach the bucket at start-up serves it only when it passes: signed with
    this host's key, and every file as its manifest says.
    """
    live = current_version(index_dir)
    if live is None:
        raise SnapshotError(f"no snapshot under {index_dir}")
    if not secret:
        raise SnapshotError("serving snapshots needs VOD_SNAPSHOT_KEY, to verify them")
    try:
        body = (live.path / VERIFIED / MANIFEST).read_bytes()
        signature = (live.path / VERIFIED / SIGNATURE).read_bytes()
    except OSError:
        raise SnapshotError(f"{live.path.name} has no signed manifest") from None
    if not signed_by(secret, body, signature):
        raise SnapshotError(f"{live.path.name} has a wrong signature")
    for entry in json.loads(body)["files"]:
        name = _safe_name(str(entry["name"]))
        top, rest = name.split("/", 1)
        path = live.path / rest if top == "files" else live.path / name
        try:
            intact = path.stat().st_size == entry["size"] and _sha256(path) == entry["sha256"]
        except OSError:
            intact = False
        if not intact:
            raise SnapshotError(f"{live.path.name}: {name} does not match its checksum")
    return live


def _record(index_dir: Path, status: str, detail: str) -> None:
    """Write what the last fetch did, for /healthz (the poller may run in another process)."""
    body = {"status": status, "detail": detail, "at": time.time()}
    tmp = index_dir / f".{STATUS_FILE}.{os.getpid()}.tmp"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(body))
        os.replace(tmp, index_dir / STATUS_FILE)
    except OSError as exc:
        log.warning("cannot record the snapshot status in %s: %s", index_dir, exc)


def snapshot_health(index_dir: Path) -> dict[str, Any] | None:
    """What /healthz says about snapshots: the last fetch's outcome, or None on a local index."""
    try:
        body = json.loads((index_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def is_snapshot_host(settings: Settings) -> bool:
    """Tell whether these settings serve snapshots (`vod serve --index-from-s3`)."""
    link = live_catalog_path(settings.index_dir)
    return catalog_identity(settings.catalog) == catalog_identity(link)


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
                install_snapshot(self.store, self.index_dir)
            except SnapshotError as exc:
                log.error("snapshot rejected, previous index keeps serving: %s", exc)
            except Exception as exc:
                _record(self.index_dir, "unreachable", f"snapshot poll failed: {exc!r}")
                log.exception("snapshot poll failed; previous index keeps serving")


def snapshot_store(
    bucket: str, prefix: str, timeout: float, secret: str | None = None
) -> SnapshotStore:
    """Build a SnapshotStore with an S3 client configured like the recordings store."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout,
        read_timeout=max(timeout, 10.0),
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return SnapshotStore(boto3.client("s3", config=config), bucket, prefix, secret)


def follow_snapshots(settings: Settings, *, say: Callable[[str], None]) -> Settings:
    """Fetch the newest published snapshot, start polling for newer ones, and return the
    settings that serve it (the catalog is read from the snapshot)."""
    from vod.errors import ConfigError

    if not settings.s3_bucket:
        raise ConfigError("--index-from-s3 needs VOD_S3_BUCKET")
    if not settings.snapshot_key:
        raise ConfigError(
            "--index-from-s3 needs VOD_SNAPSHOT_KEY, the key snapshots are signed with"
        )
    store = snapshot_store(
        settings.s3_bucket, settings.index_s3_prefix, settings.s3_timeout, settings.snapshot_key
    )
    try:
        info = install_snapshot(store, settings.index_dir)
        say(f"Index snapshot {info.path.name}: {info.documents} talks.")
    except SnapshotError as exc:
        try:
            here = verify_local(settings.index_dir, settings.snapshot_key)
        except SnapshotError as local:
            raise SnapshotError(f"{exc}; no valid snapshot here to serve ({local})") from None
        say(f"Warning: {exc}; serving the snapshot here ({here.path.name}).")
    # A daemon thread in the serving (or supervising) process: it lives as long as the server.
    SnapshotPoller(store, settings.index_dir, settings.index_poll).start()
    # The index folder stays where it is: it no longer follows the catalog's place.
    return settings.replace(
        catalog=live_catalog_path(settings.index_dir), index_dir=settings.index_dir
    )


def publish_built(settings: Settings, info: IndexInfo) -> str:
    """Publish the version `vod index` just built as a signed snapshot; return where it went.

    Raises VodError when the store refuses or cannot be reached.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    assert settings.s3_bucket is not None and settings.snapshot_key is not None
    store = snapshot_store(
        settings.s3_bucket, settings.index_s3_prefix, settings.s3_timeout, settings.snapshot_key
    )
    try:
        version = publish(store, info, settings.catalog)
    except (BotoCoreError, ClientError) as exc:
        raise SnapshotError(str(exc)) from exc
    return f"{version} to s3://{store.bucket}/{store.key(version)}"
