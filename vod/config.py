"""Settings: read the VOD_* environment variables once into a typed, frozen object."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vod.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
# The catalog a fresh clone (or a plain `pip install`) serves with no settings at all.
BUNDLED_CATALOG = PACKAGE_DIR / "bundled" / "catalog"
STATIC_DIR = PACKAGE_DIR / "static"


# Each catalog gets its own index folder under this one when VOD_INDEX_DIR is not set.
INDEX_ROOT = Path("index")
_KEYED_INDEX_DIR = Path("index")  # the default by identity: replaced by INDEX_ROOT/<catalog key>


def catalog_identity(path: Path) -> str:
    """Return what identifies a catalog: its absolute, normalized path (symlinks kept).

    Its digest changes with every edit, its place does not. A snapshot host reads its catalog
    through a link that moves to each new snapshot, and it stays the same catalog.
    """
    return os.path.normpath(os.path.abspath(path))


def default_index_dir(catalog: Path) -> Path:
    """Return the index folder of a catalog when VOD_INDEX_DIR is not set: one per catalog.

    Two catalogs served from one folder once shared `index/` and its CURRENT pointer, so
    indexing one switched the other's server to it (issue 10, item 1).
    """
    identity = catalog_identity(catalog)
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(identity).stem).strip("-")[:40] or "catalog"
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()
    return INDEX_ROOT / f"{name}-{digest[:10]}"


def _secret_key(name: str, raw: str) -> str:
    if len(raw) < 32:
        raise ConfigError(f"{name} must be at least 32 characters (try `openssl rand -hex 32`)")
    return raw


def _templates_dir() -> Path:
    """Find templates inside the installed wheel, or at the top of a checkout."""
    installed = PACKAGE_DIR / "templates"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "templates"


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


# Seconds a talk page (HTML and JSON), which may carry presigned URLs, may be kept by a cache.
TALK_PAGE_MAX_AGE = 30
# What S3 accepts as a presigned URL's lifetime (SigV4): 1 second to 7 days.
PRESIGN_MAX = 7 * 24 * 3600


def _presign_expiry(name: str, raw: str) -> int:
    """A presigned URL's lifetime: what S3 accepts, and never shorter than a cached page lives.

    A URL that expires before the page holding it leaves the caches would give a viewer a
    page whose video does not load (issue #10 item 9).
    """
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if not TALK_PAGE_MAX_AGE <= value <= PRESIGN_MAX:
        raise ConfigError(
            f"{name} must be between {TALK_PAGE_MAX_AGE} (how long a talk page may be cached) "
            f"and {PRESIGN_MAX} seconds (7 days, the most S3 accepts), got {value}"
        )
    return value


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def _http_url(name: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")) or any(c.isspace() for c in raw):
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {raw!r}")
    return raw.rstrip("/")


def _host_list(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated host names, addresses or networks (10.0.0.0/8), each checked."""
    entries = tuple(e.strip() for e in raw.split(",") if e.strip())
    for entry in entries:
        try:
            host_or_network(entry)
        except ValueError:
            raise ConfigError(
                f"{name}: {entry!r} is not a host name, an address or a network"
            ) from None
    return entries


# A DNS name as VOD_FETCH_ALLOW may list it (underscores allowed, as intranet names have them).
_FETCH_HOST = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$"
)


def host_or_network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | str:
    """Read one VOD_FETCH_ALLOW entry: an address or network, or a host name (IDNA-encoded)."""
    text = entry.strip().lower().strip("[]")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    try:
        name = text.encode("idna").decode("ascii").rstrip(".")
    except UnicodeError:
        name = ""
    if not _FETCH_HOST.match(name):
        raise ValueError(f"{entry!r} is not a host name, address or network")
    return name


_HOST_NAME = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def _host_names(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated host names (`*.example.org` allows subdomains), lower-cased and checked."""
    entries = tuple(e.strip().lower() for e in raw.split(",") if e.strip())
    for entry in entries:
        host = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
        if not _HOST_NAME.match(host) and not _is_address(host.strip("[]")):
            raise ConfigError(f"{name}: {entry!r} is not a host name")
    return entries


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: the variable, its default and its help text."""

    attr: str
    env: str
    default: str | None  # as the variable would give it (None: unset); Settings parses it
    help: str
    parse: Callable[[str, str], Any] | None = None

    def value(self, raw: str | None) -> Any:
        """Return the setting's value for `raw` as the variable gives it (None stays None)."""
        if raw is None:
            return None
        return self.parse(self.env, raw) if self.parse else raw


# The one table of settings: Settings, `--help`, README and tests/test_docs.py all follow it.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "catalog",
        "VOD_CATALOG",
        str(BUNDLED_CATALOG),
        "Catalog file or folder of YAML files (default: the bundled Systems @Scale 2024).",
        lambda n, v: Path(v),
    ),
    Setting(
        "index_dir",
        "VOD_INDEX_DIR",
        None,
        "Folder holding the Whoosh index versions (default: index/<catalog name>-<hash of "
        "its path>, one folder per catalog).",
        lambda n, v: Path(v),
    ),
    Setting(
        "media_dir",
        "VOD_MEDIA_DIR",
        "media",
        "Folder of local recordings, served with Range support (used when no S3 bucket).",
        lambda n, v: Path(v),
    ),
    Setting(
        "s3_bucket",
        "VOD_S3_BUCKET",
        None,
        "S3 bucket holding the recordings; AWS_* variables pick credentials and endpoint.",
    ),
    Setting(
        "s3_prefix",
        "VOD_S3_PREFIX",
        "",
        "Key prefix of the recordings inside the bucket.",
        lambda n, v: v.strip("/"),
    ),
    Setting(
        "media_url",
        "VOD_MEDIA_URL",
        None,
        "Public URL serving VOD_S3_BUCKET's objects by key (a CDN): recordings are linked there, "
        "not presigned.",
        _http_url,
    ),
    Setting(
        "presign_expiry",
        "VOD_PRESIGN_EXPIRY",
        "3600",
        "Seconds a presigned S3 playback URL stays valid (30 s, a cached talk page's life, "
        "to 604800 s, the 7 days S3 accepts).",
        _presign_expiry,
    ),
    Setting(
        "s3_timeout",
        "VOD_S3_TIMEOUT",
        "2",
        "Connect and read timeout of each S3 call, in seconds.",
        _positive_float,
    ),
    Setting(
        "index_s3_prefix",
        "VOD_INDEX_S3_PREFIX",
        "_vod-index",
        "Key prefix of published index snapshots in VOD_S3_BUCKET (vod index --publish).",
    ),
    Setting(
        "snapshot_key",
        "VOD_SNAPSHOT_KEY",
        None,
        "Secret (32+ characters) that signs published index snapshots (HMAC-SHA256) and that "
        "hosts verify them with; never store it in the bucket.",
        _secret_key,
    ),
    Setting(
        "index_poll",
        "VOD_INDEX_POLL",
        "30",
        "Seconds between checks for a newer snapshot (vod serve --index-from-s3).",
        _positive_float,
    ),
    Setting(
        "base_url",
        "VOD_BASE_URL",
        None,
        "Public URL of the site: every absolute link and redirect uses it, and requests for "
        "another Host get 400 (default: from the request, never publicly cacheable).",
        _http_url,
    ),
    Setting("admin_token", "VOD_ADMIN_TOKEN", None, "Token that admin actions require."),
    Setting(
        "fetch_allow",
        "VOD_FETCH_ALLOW",
        "",
        "Internal hosts, addresses or networks (comma-separated) that outbound fetches "
        "(caption URLs, schedule imports, link checks) may reach; by default none.",
        _host_list,
    ),
    Setting(
        "allowed_hosts",
        "VOD_ALLOWED_HOSTS",
        "",
        "Host names (comma-separated) accepted besides VOD_BASE_URL's; with VOD_BASE_URL set, "
        "requests for any other Host get 400.",
        _host_names,
    ),
    Setting(
        "max_connections",
        "VOD_MAX_CONNECTIONS",
        "1000",
        "Open connections a worker serves at once; requests beyond get 503 (vod serve).",
        _positive_int,
    ),
    Setting(
        "header_timeout",
        "VOD_HEADER_TIMEOUT",
        "10",
        "Seconds a client has to send a request's headers before the connection is closed.",
        _positive_float,
    ),
)


# Each setting's default as Settings holds it: the table's, parsed as its variable would be.
_DEFAULTS: dict[str, Any] = {s.attr: s.value(s.default) for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Everything vod reads from its environment, typed and defaulted (from SETTINGS)."""

    catalog: Path = _DEFAULTS["catalog"]
    # The table's default is None: unless given, the folder follows the catalog (__post_init__).
    index_dir: Path = _KEYED_INDEX_DIR
    media_dir: Path = _DEFAULTS["media_dir"]
    s3_bucket: str | None = _DEFAULTS["s3_bucket"]
    s3_prefix: str = _DEFAULTS["s3_prefix"]
    media_url: str | None = _DEFAULTS["media_url"]
    presign_expiry: int = _DEFAULTS["presign_expiry"]
    s3_timeout: float = _DEFAULTS["s3_timeout"]
    index_s3_prefix: str = _DEFAULTS["index_s3_prefix"]
    snapshot_key: str | None = field(default=_DEFAULTS["snapshot_key"], repr=False)
    index_poll: float = _DEFAULTS["index_poll"]
    base_url: str | None = _DEFAULTS["base_url"]
    admin_token: str | None = field(default=_DEFAULTS["admin_token"], repr=False)
    fetch_allow: tuple[str, ...] = _DEFAULTS["fetch_allow"]
    allowed_hosts: tuple[str, ...] = _DEFAULTS["allowed_hosts"]
    max_connections: int = _DEFAULTS["max_connections"]
    header_timeout: float = _DEFAULTS["header_timeout"]
    templates_dir: Path = field(default_factory=_templates_dir)
    static_dir: Path = STATIC_DIR
    # The index folder was not given: it follows the catalog (see replace).
    index_dir_keyed: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.index_dir is _KEYED_INDEX_DIR:  # identity: an explicit Path("index") is kept
            object.__setattr__(self, "index_dir", default_index_dir(self.catalog))
            object.__setattr__(self, "index_dir_keyed", True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build Settings from VOD_* variables; raise ConfigError naming a bad variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = env.get(setting.env)
            if raw is None or raw == "":
                continue
            values[setting.attr] = setting.value(raw)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The VOD_* variables that give these settings to another process (None: not set)."""
        values = {s.env: getattr(self, s.attr) for s in SETTINGS}
        return {
            name: ",".join(value) if isinstance(value, tuple) else str(value)
            for name, value in values.items()
            if value is not None and value != ()
        }

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed."""
        current = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        if self.index_dir_keyed and "index_dir" not in changes:
            current["index_dir"] = _KEYED_INDEX_DIR  # another catalog, another folder
        current.update(changes)
        return Settings(**current)
