"""Where recordings live: a local folder (the embedded default) or an S3-compatible store.

Views never talk to a backend directly: they ask `Recordings.playback(talk)` for a `Playback`,
which says what the browser should play and what note the page shows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote

from vod.errors import ConfigError, StorageUnavailable
from vod.keys import safe_key
from vod.lru import LruCache

if TYPE_CHECKING:
    from vod.catalog import Talk
    from vod.config import Settings

log = logging.getLogger(__name__)

# URL path of the bundled sample clip that stands in for an absent recording.
PLACEHOLDER_PATH = "/static/placeholder.mp4"
PLACEHOLDER_CAPTIONS_PATH = "/static/placeholder.en.vtt"
# How long a store's answer about one key is trusted before asking again.
EXISTS_TTL = 60.0
# Keys whose answer is remembered: every recording, poster and caption of a large catalog.
KNOWN_KEYS = 65_536
# The longest a page waits for the store before it renders "temporarily unavailable".
PAGE_BUDGET = 1.5
# Store calls run here, so a page can stop waiting without abandoning a request thread.
_STORE_CALLS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vod-store")
# After the store failed to answer, how long pages skip it instead of waiting on timeouts again.
OUTAGE_BACKOFF = 15.0


class Storage(Protocol):
    """A store of recordings, addressed by keys like `systems-scale-2024/keynote.mp4`."""

    kind: str
    # url_for gives the same URL every time (no expiry): pages, feeds and previews may keep it.
    stable_urls: bool

    def exists(self, key: str) -> bool:
        """Tell whether `key` is in the store; raise StorageUnavailable if it cannot tell."""
        ...

    def url_for(self, key: str) -> str:
        """Return a URL the browser can play `key` from; makes no network call."""
        ...

    def read_text(self, key: str, limit: int) -> str | None:
        """Return the UTF-8 text at `key`, or None when absent (captions, read at index time).

        Raise StorageUnavailable if the store cannot answer, and ValueError when the object is
        larger than `limit` bytes or is not UTF-8 text.
        """
        ...

    def describe(self) -> str:
        """Say in a few words where recordings are read from."""
        ...


class LocalStorage:
    """Recordings in a folder; vod serves them itself at /media/ with Range support."""

    kind = "local"
    stable_urls = True

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, key: str) -> Path | None:
        """Return the file behind `key`, or None if it is absent or would escape the folder."""
        try:
            key = safe_key(key)
        except ValueError:
            return None
        try:
            path = (self.root / key).resolve()
            if not path.is_relative_to(self.root) or not path.is_file():
                return None
        except (OSError, RuntimeError):  # name too long, symlink loop (RuntimeError on 3.11/3.12)
            return None
        return path

    def exists(self, key: str) -> bool:
        return self.path_for(key) is not None

    def url_for(self, key: str) -> str:
        return "/media/" + quote(safe_key(key))

    def read_text(self, key: str, limit: int) -> str | None:
        path = self.path_for(key)
        if path is None:
            return None
        try:
            with path.open("rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {key!r}: {exc}") from exc
        return text_within(key, data, limit)

    def describe(self) -> str:
        return f"local folder {self.root}"


class S3Storage:
    """Recordings in an S3-compatible bucket.

    The browser plays them from presigned URLs, or, with `public_url` (VOD_MEDIA_URL: a CDN or
    the bucket's public address), from `public_url/<object key>`: stable URLs that pages, feeds
    and link previews can keep and publish.
    """

    kind = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        timeout: float = 2.0,
        expiry: int = 3600,
        endpoint_url: str | None = None,
        public_url: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.expiry = expiry
        self.public_url = public_url.rstrip("/") if public_url else None
        self.stable_urls = self.public_url is not None
        # boto3's defaults can block one HEAD for minutes; pages must not wait that long.
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 2, "mode": "standard"},
            signature_version="s3v4",
        )
        # endpoint_url None lets boto3 read AWS_ENDPOINT_URL (MinIO, Ceph, R2, moto).
        try:
            self.client: Any = boto3.client("s3", endpoint_url=endpoint_url, config=config)
        except ValueError as exc:  # a malformed AWS_ENDPOINT_URL or AWS_DEFAULT_REGION
            raise ConfigError(f"cannot set up the S3 client: {exc}") from None

    def object_key(self, key: str) -> str:
        key = safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageUnavailable(f"S3 answered {code or 'an error'} for {key!r}") from exc
        except BotoCoreError as exc:  # timeouts, refused connections, missing credentials
            raise StorageUnavailable(f"S3 unreachable: {exc}") from exc
        return True

    def list_keys(self) -> set[str]:
        """Every key under the prefix, as `exists` names them: one call per 1,000 objects."""
        from botocore.exceptions import BotoCoreError, ClientError

        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: set[str] = set()
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, **({"Prefix": self.prefix + "/"} if self.prefix else {})
            )
            for page in pages:
                keys.update(obj["Key"][strip:] for obj in page.get("Contents", ()))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise StorageUnavailable(f"S3 answered {code or 'an error'} to a listing") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 unreachable: {exc}") from exc
        return keys

    def url_for(self, key: str) -> str:
        from botocore.exceptions import BotoCoreError

        if self.public_url is not None:
            return f"{self.public_url}/{quote(self.object_key(key))}"
        try:
            url: str = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.object_key(key)},
                ExpiresIn=self.expiry,
            )
        except BotoCoreError as exc:  # no credentials configured
            raise StorageUnavailable(f"cannot sign S3 URLs: {exc}") from exc
        return url

    def read_text(self, key: str, limit: int) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # One ranged GET, under the same timeouts as every other call: a byte past the
            # limit tells that the object is too large without downloading it.
            response = self.client.get_object(
                Bucket=self.bucket, Key=self.object_key(key), Range=f"bytes=0-{limit}"
            )
            data = response["Body"].read(limit + 1)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            if code == "InvalidRange":  # an empty object has no byte 0
                return ""
            raise StorageUnavailable(f"S3 answered {code or 'an error'} for {key!r}") from exc
        except (BotoCoreError, OSError) as exc:  # timeouts, refused connections, credentials
            raise StorageUnavailable(f"S3 unreachable: {exc}") from exc
        return text_within(key, data, limit)

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        endpoint = getattr(self.client.meta, "endpoint_url", None)
        return f"{where} at {endpoint}" if endpoint else where


def text_within(key: str, data: bytes, limit: int) -> str:
    """Decode `data` read from `key` (limit + 1 bytes at most); ValueError: too large, not UTF-8."""
    if len(data) > limit:
        raise ValueError(f"{key!r} is larger than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{key!r} is not UTF-8 text") from None


def storage_from_settings(settings: Settings) -> Storage:
    """Build the store the settings select: S3 when a bucket is set, else the media folder."""
    if settings.s3_bucket:
        return S3Storage(
            settings.s3_bucket,
            settings.s3_prefix,
            timeout=settings.s3_timeout,
            expiry=settings.presign_expiry,
            public_url=settings.media_url,
        )
    if settings.media_dir.exists() and not settings.media_dir.is_dir():
        raise ConfigError(f"VOD_MEDIA_DIR={settings.media_dir} is not a folder")
    return LocalStorage(settings.media_dir)


PlaybackStatus = Literal["ok", "external", "placeholder", "unavailable", "not_recorded"]
NOT_RECORDED_NOTE = "This talk was not recorded, at the speakers' request."


@dataclass(frozen=True)
class Playback:
    """What the player plays for one talk, and what the page says about it."""

    status: PlaybackStatus
    src: str | None
    media_type: str
    captions: tuple[tuple[str, str, str], ...] = ()  # (lang, label, url)
    note: str | None = None
    # External recordings (issue #5): "youtube", "vimeo", "peertube", "archive.org" play in the
    # provider's embed (an iframe of `embed_url`), "file" in <video>, "link" is only linked to.
    provider: str | None = None
    embed_url: str | None = None
    host: str | None = None  # who hosts an external recording: "YouTube", "dl.afpy.org"

    @property
    def is_placeholder(self) -> bool:
        return self.status == "placeholder"

    def embed_src(self, start: int | None = None, end: int | None = None) -> str | None:
        """The embed's iframe src, from `start` to `end` seconds where the provider can."""
        if self.embed_url is None or self.src is None:
            return None
        from vod.providers import external_player

        return external_player(self.src).src(start, end)


class Recordings:
    """Resolve talks to playable sources, remembering answers briefly and backing off outages."""

    def __init__(self, storage: Storage, ttl: float = EXISTS_TTL) -> None:
        self.storage = storage
        self.ttl = ttl
        self._known: LruCache[tuple[float, bool]] = LruCache(KNOWN_KEYS)  # (when, exists)
        self._down_until = 0.0
        self._last_error: str | None = None
        self._lock = threading.Lock()

    def exists(self, key: str) -> bool:
        """Tell whether the store has `key`, from a short-lived cache when possible."""
        now = time.monotonic()
        cached = self._known.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        with self._lock:
            if now < self._down_until:
                raise StorageUnavailable(self._last_error or "storage unavailable")
        try:
            found = self._ask(key)
        except StorageUnavailable as exc:
            self._outage(str(exc))
            raise
        self._known.put(key, (now, found))
        with self._lock:
            self._last_error = None
        return found

    def prefetch(self, keys: Iterable[str]) -> None:
        """Learn at once whether each of `keys` exists, before a page that names thousands.

        A sitemap or a feed asks about every talk: one HEAD each, one after another, took
        minutes on a cold cache. A store that can list its keys answers them all in one
        listing (one call per 1,000 objects), within the page budget; otherwise the keys are
        asked one by one later, as before. An outage is remembered like a failed HEAD.
        """
        wanted = set(keys)
        list_keys = getattr(self.storage, "list_keys", None)
        if list_keys is None or not wanted:
            return
        now = time.monotonic()
        with self._lock:
            wanted = {k for k in wanted if not self._fresh(k, now)}
            if not wanted or now < self._down_until:
                return
        future = _STORE_CALLS.submit(list_keys)
        try:
            present: set[str] = future.result(timeout=PAGE_BUDGET)
        except FutureTimeout:
            self._outage(f"the store did not list its keys within {PAGE_BUDGET:g} s")
            return
        except StorageUnavailable as exc:
            self._outage(str(exc))
            return
        for key in wanted:
            self._known.put(key, (now, key in present))
        with self._lock:
            self._last_error = None

    def _fresh(self, key: str, now: float) -> bool:
        cached = self._known.get(key)
        return cached is not None and now - cached[0] < self.ttl

    def _outage(self, error: str) -> None:
        with self._lock:
            self._down_until = time.monotonic() + OUTAGE_BACKOFF
            self._last_error = error
        log.warning("recording store unavailable: %s", error)

    def _ask(self, key: str) -> bool:
        """Ask the store, but give up after PAGE_BUDGET: a page must not wait on a slow store.

        boto3's timeouts bound each attempt, not the sum of connect, read and retries; the
        budget bounds what a page render waits. The call itself finishes in the background.
        """
        if self.storage.kind == "local":
            return self.storage.exists(key)
        future = _STORE_CALLS.submit(self.storage.exists, key)
        try:
            return future.result(timeout=PAGE_BUDGET)
        except FutureTimeout:
            raise StorageUnavailable(f"the store did not answer within {PAGE_BUDGET:g} s") from None

    def health(self) -> dict[str, Any]:
        """Report the store and whether its last answer was an error."""
        # Not only during the backoff window: an outage stays reported until the store answers.
        with self._lock:
            degraded = self._last_error is not None
        return {
            "kind": self.storage.kind,
            "status": "degraded" if degraded else "ok",
            "detail": self._last_error if degraded else None,
        }

    def playback(self, talk: Talk) -> Playback:
        """Decide what the player plays for `talk`: the recording, the placeholder, or nothing."""
        rec = talk.recording
        if rec.url:
            from vod.providers import external_player

            captions = tuple((c.lang, c.label, c.url) for c in rec.captions if c.url)
            player = external_player(rec.url)
            return Playback(
                "external",
                rec.url,
                rec.media_type,
                captions,
                note=player.note,
                provider=player.provider,
                embed_url=player.embed_url,
                host=player.label,
            )
        key = rec.key
        if key is None:  # `do_not_record`: the loader gives every other recording a key
            return Playback("not_recorded", None, rec.media_type, note=NOT_RECORDED_NOTE)
        try:
            if self.exists(key):
                return Playback(
                    "ok", self.storage.url_for(key), rec.media_type, self._captions(talk)
                )
        except StorageUnavailable:
            return Playback(
                "unavailable",
                None,
                rec.media_type,
                note="The recording is temporarily unavailable: its store is not answering. "
                "Please try again in a few minutes.",
            )
        return Playback(
            "placeholder",
            PLACEHOLDER_PATH,
            "video/mp4",
            (("en", "English (describes the sample clip)", PLACEHOLDER_CAPTIONS_PATH),),
            note="This recording is not available here yet. "
            "A short placeholder clip plays in its place.",
        )

    def _captions(self, talk: Talk) -> tuple[tuple[str, str, str], ...]:
        out = []
        for c in talk.recording.captions:
            if c.url:
                out.append((c.lang, c.label, c.url))
            elif c.key:
                try:
                    out.append((c.lang, c.label, self.storage.url_for(c.key)))
                except (StorageUnavailable, ValueError):
                    continue
        return tuple(out)
