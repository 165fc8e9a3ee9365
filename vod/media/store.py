"""What `vod media` and `vod upload` need from a store beyond playback: stat, fetch, publish.

Publishing is atomic in both stores: a local file is written under a temporary name in its
folder and renamed into place; an S3 object (even a multipart upload) only appears once whole.
Recordings are streamed to and from temporary files, never held in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vod.errors import StorageUnavailable
from vod.keys import safe_key
from vod.media.tools import MediaError
from vod.storage import LocalStorage, S3Storage, Storage

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# Multipart transfers: 16 MiB parts (a 4 GB recording is 250 parts, far below S3's 10,000).
MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_CHUNKSIZE = 16 * 1024 * 1024
TRANSFER_TIMEOUT = 60.0  # seconds a transfer's socket may stay silent
TEXT_LIMIT = 256 * 1024 * 1024
LIST_ABOVE = 20  # more recordings than this: list the bucket instead of a HEAD each

Transferred = Callable[[int], None]


@dataclass(frozen=True)
class SourceStat:
    """A recording's size and version: the ETag in S3, the modification time locally."""

    size: int
    version: str


class MediaStore(Protocol):
    """Stat, fetch and publish files by key, in the local media folder or in S3."""

    kind: str

    def stat(self, key: str) -> SourceStat | None:
        """Return the size and version of `key`, or None when it is absent."""
        ...

    def stats(self, keys: list[str]) -> dict[str, SourceStat | None]:
        """Return the size and version of each of `keys` (None: absent), asking in bulk."""
        ...

    def local_copy(self, key: str, folder: Path, suffix: str) -> Path:
        """Return a local file with the bytes of `key` (downloaded into `folder` if need be)."""
        ...

    def publish(
        self, path: Path, key: str, content_type: str, progress: Transferred | None = None
    ) -> None:
        """Put the file at `path` at `key`, whole or not at all."""
        ...

    def read_text(self, key: str) -> str | None:
        """Return the text at `key`, or None when it is absent."""
        ...

    def write_text(self, key: str, text: str, content_type: str) -> None:
        """Put `text` at `key`, whole or not at all."""
        ...

    def verify(self, key: str, path: Path) -> None:
        """Check that `key` holds exactly the bytes of `path`; MediaError when it does not."""
        ...


def sha256_file(path: Path, progress: Transferred | None = None) -> str:
    """Hash a file in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


class LocalMediaStore:
    """The local media folder."""

    kind = "local"

    def __init__(self, storage: LocalStorage) -> None:
        self.storage = storage
        self.root = storage.root

    def _path(self, key: str) -> Path:
        key = safe_key(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"unsafe store key {key!r}")
        return path

    def stat(self, key: str) -> SourceStat | None:
        path = self.storage.path_for(key)
        if path is None:
            return None
        info = path.stat()
        return SourceStat(info.st_size, str(info.st_mtime_ns))

    def stats(self, keys: list[str]) -> dict[str, SourceStat | None]:
        return {key: self.stat(key) for key in keys}  # a stat() call each: microseconds

    def local_copy(self, key: str, folder: Path, suffix: str) -> Path:
        path = self.storage.path_for(key)
        if path is None:
            raise MediaError(f"{key} is not in {self.storage.describe()}")
        return path  # read in place: no copy of a large file

    def publish(
        self, path: Path, key: str, content_type: str, progress: Transferred | None = None
    ) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same folder, so the rename is atomic: readers see the old file or the new, never half.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    if progress:
                        progress(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            tmp.chmod(0o644)
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def read_text(self, key: str) -> str | None:
        return self.storage.read_text(key, TEXT_LIMIT)

    def write_text(self, key: str, text: str, content_type: str) -> None:
        with tempfile.TemporaryDirectory(prefix="vod-text-") as tmp:
            path = Path(tmp) / "text"
            path.write_text(text, encoding="utf-8")
            self.publish(path, key, content_type)

    def verify(self, key: str, path: Path) -> None:
        target = self.storage.path_for(key)
        if target is None or sha256_file(target) != sha256_file(path):
            raise MediaError(f"{key}: the copy in the media folder differs from {path.name}")


def multipart_etag(path: Path, threshold: int, chunksize: int) -> str:
    """Compute the ETag S3 gives an upload of `path` made with these transfer settings.

    A single PUT's ETag is the MD5 of the bytes; a multipart upload's is the MD5 of the parts'
    MD5s, then `-` and the number of parts. Comparing it checks every byte that arrived.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size < threshold:
            return hashlib.md5(fh.read(), usedforsecurity=False).hexdigest()
        digests = []
        while part := fh.read(chunksize):
            digests.append(hashlib.md5(part, usedforsecurity=False).digest())
    joined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{joined}-{len(digests)}"


class S3MediaStore:
    """An S3-compatible bucket, through boto3's transfer manager."""

    kind = "s3"

    def __init__(self, storage: S3Storage) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.storage = storage
        self.bucket = storage.bucket
        # The site's client gives up after 2 s; a transfer of gigabytes needs patience instead.
        config = Config(
            connect_timeout=10,
            read_timeout=TRANSFER_TIMEOUT,
            retries={"max_attempts": 5, "mode": "standard"},
            signature_version="s3v4",
        )
        self.client: Any = boto3.client(
            "s3", endpoint_url=storage.client.meta.endpoint_url, config=config
        )
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_CHUNKSIZE,
            max_concurrency=4,
        )

    def _errors(self, key: str) -> contextlib.AbstractContextManager[None]:
        return _s3_errors(key)

    def stat(self, key: str) -> SourceStat | None:
        try:
            with self._errors(key):
                head = self.client.head_object(Bucket=self.bucket, Key=self.storage.object_key(key))
        except _Absent:
            return None
        return SourceStat(int(head["ContentLength"]), str(head.get("ETag", "")).strip('"'))

    def stats(self, keys: list[str]) -> dict[str, SourceStat | None]:
        if len(keys) <= LIST_ABOVE:
            return {key: self.stat(key) for key in keys}
        # One LIST call per 1,000 objects under the prefix, instead of a HEAD per recording.
        prefix = f"{self.storage.prefix}/" if self.storage.prefix else ""
        found: dict[str, SourceStat] = {}
        with self._errors(prefix or "/"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    found[item["Key"][len(prefix) :]] = SourceStat(
                        int(item["Size"]), str(item.get("ETag", "")).strip('"')
                    )
        return {key: found.get(key) for key in keys}

    def local_copy(self, key: str, folder: Path, suffix: str) -> Path:
        target = folder / f"source{suffix}"
        with self._errors(key):
            # download_file streams ranged GETs into the file: never the whole object in memory.
            self.client.download_file(
                self.bucket, self.storage.object_key(key), str(target), Config=self.transfer
            )
        return target

    def publish(
        self, path: Path, key: str, content_type: str, progress: Transferred | None = None
    ) -> None:
        extra = {"ContentType": content_type}
        with self._errors(key):
            self.client.upload_file(
                str(path),
                self.bucket,
                self.storage.object_key(key),
                ExtraArgs=extra,
                Config=self.transfer,
                Callback=progress,
            )

    def read_text(self, key: str) -> str | None:
        return self.storage.read_text(key, TEXT_LIMIT)

    def write_text(self, key: str, text: str, content_type: str) -> None:
        with self._errors(key):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.storage.object_key(key),
                Body=text.encode("utf-8"),
                ContentType=content_type,
            )

    def verify(self, key: str, path: Path) -> None:
        found = self.stat(key)
        size = path.stat().st_size
        if found is None:
            raise MediaError(f"{key}: the upload is not in the bucket")
        expected = multipart_etag(path, MULTIPART_THRESHOLD, MULTIPART_CHUNKSIZE)
        if found.size != size or found.version != expected:
            raise MediaError(
                f"{key}: the bucket holds {found.size:,} bytes with ETag {found.version}; "
                f"{path.name} has {size:,} bytes and should give {expected}"
            )


class _Absent(MediaError):
    """The key is not in the bucket."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is not in the bucket")


@contextlib.contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    """Turn boto3's errors into vod's: absent keys, an unreachable store."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise _Absent(key) from None
        raise StorageUnavailable(f"S3 answered {code or 'an error'} for {key!r}") from exc
    except (BotoCoreError, S3UploadFailedError, OSError) as exc:
        raise StorageUnavailable(f"S3 transfer of {key!r} failed: {exc}") from exc


def media_store(storage: Storage) -> MediaStore:
    """Wrap the configured store for `vod media` and `vod upload`."""
    if isinstance(storage, LocalStorage):
        return LocalMediaStore(storage)
    if isinstance(storage, S3Storage):
        return S3MediaStore(storage)
    raise TypeError(f"no media support for the {storage.kind} store")
