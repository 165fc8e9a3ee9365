"""The work behind `vod media` and `vod upload`; vod/cli.py only parses options and prints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vod.errors import StorageUnavailable
from vod.media.keys import output_keys, parse_renditions
from vod.media.pipeline import MediaOptions, MediaReport, process_talks
from vod.media.store import media_store
from vod.media.tools import MediaError, probe
from vod.progress import progress

if TYPE_CHECKING:
    from vod.catalog import Catalog
    from vod.config import Settings
    from vod.storage import Storage

Echo = Callable[[str], None]


def media_options(jobs: int, force: bool, renditions: str | None) -> MediaOptions:
    """Read the command line's choices; MediaError for a rendition vod cannot make."""
    try:
        names = parse_renditions(renditions)
    except ValueError as exc:
        raise MediaError(f"--renditions: {exc}") from None
    return MediaOptions(force=force, renditions=names, jobs=jobs)


def _catalog_and_store(settings: Settings) -> tuple[Catalog, Storage]:
    from vod.catalog import catalog_cache_dir, load_catalog_cached
    from vod.storage import storage_from_settings

    catalog = load_catalog_cached(settings.catalog, catalog_cache_dir(settings.index_dir))
    return catalog, storage_from_settings(settings)


def media_command(
    settings: Settings, slugs: tuple[str, ...], options: MediaOptions, echo: Echo
) -> bool:
    """`vod media`: process the recordings, print what happened, and tell whether all went."""
    catalog, storage = _catalog_and_store(settings)
    echo(f"Recordings in {storage.describe()}")
    report = run_media(catalog, storage, slugs, options)
    for line in report.lines():
        echo(line)
    return report.ok


def upload_command(
    settings: Settings, slug: str, path: Path, options: MediaOptions, echo: Echo
) -> bool:
    """`vod upload`: upload one recording, then process it; tell whether all went."""
    catalog, storage = _catalog_and_store(settings)
    report = upload(catalog, storage, slug, path, options, echo)
    for line in report.lines():
        echo(line)
    return report.ok


def run_media(
    catalog: Catalog, storage: Storage, slugs: tuple[str, ...], options: MediaOptions
) -> MediaReport:
    """Process the recordings of the talks named (every talk when none is named).

    Raises TalkNotFound for an unknown slug, before any work starts.
    """
    talks = [catalog.talk(s) for s in slugs] if slugs else list(catalog.talks_newest_first())
    return process_talks(media_store(storage), talks, options)


def upload(
    catalog: Catalog,
    storage: Storage,
    slug: str,
    path: Path,
    options: MediaOptions,
    echo: Callable[[str], None],
) -> MediaReport:
    """Put `path` at the talk's recording key, check what arrived, then process it.

    The file is probed first: a file that is not a recording is refused before any upload.
    """
    talk = catalog.talk(slug)
    if talk.recording.url or talk.recording.key is None:
        raise MediaError(
            f"{slug} has an external recording (recording.url); give it a recording.key "
            "in the catalog to keep the video in the store"
        )
    key = output_keys(talk.recording.key).recording
    if not path.is_file():
        raise MediaError(f"{path} is not a file")
    info = probe(path)
    store = media_store(storage)
    size = path.stat().st_size
    echo(f"Uploading {path.name} ({size:,} bytes, {info.duration_s:.0f} s) to {key}")
    try:
        with progress(f"Uploading {path.name}", size, "bytes") as update:
            store.publish(path, key, talk.recording.media_type, update)
        store.verify(key, path)
    except StorageUnavailable as exc:
        raise MediaError(f"the upload of {path.name} failed: {exc}") from None
    echo(f"Uploaded and verified {key} in {storage.describe()}")
    return run_media(catalog, storage, (slug,), options)
