"""The `vod` command line: parse options, call the module that does the work, print its answer.

Each command's work lives beside the code it belongs to (`vod check` in vod/catalog/check.py,
search output in vod/index/printout.py, imports in vod/importers/, exports in vod/exporters/,
speaker listings in vod/catalog/identity.py); here are only options, messages and exit codes.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vod import __version__
from vod.config import SETTINGS, Settings
from vod.errors import CatalogError, ConfigError, VodError

if TYPE_CHECKING:
    from vod.catalog import Catalog
    from vod.importers import ImportReport
    from vod.index import IndexInfo

log = logging.getLogger("vod")
BUILD_NICENESS = 10  # added to the niceness of `vod index` and its writer processes
HELP_WIDTH = 120  # columns `--help` may use when the terminal has them (click's default is 80)


def _first_sentence(text: str | None) -> str:
    """Return the first sentence of a docstring, on one line."""
    paragraph = inspect.cleandoc(text or "").split("\n\n")[0]
    line = " ".join(paragraph.split())
    end = line.find(". ")
    return line if end < 0 else line[: end + 1]


class _Command(click.Command):
    """A command listed with its whole first sentence, not click's 45 characters and '...'."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or _first_sentence(self.help)


class _Group(click.Group):
    """A group whose commands and subgroups are listed with their whole first sentence."""

    command_class = _Command
    group_class = type  # subgroups are _Groups too

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or _first_sentence(self.help)


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    changes = {k: v for k, v in overrides.items() if v is not None}
    return settings.replace(**changes) if changes else settings


def _settings_epilog() -> str:
    rows = "\n".join(f"  {s.env:<20} {s.help}" for s in SETTINGS)
    return f"Settings (environment variables):\n\n\b\n{rows}"


@click.group(
    cls=_Group,
    epilog=_settings_epilog(),
    context_settings={"max_content_width": HELP_WIDTH},
)
@click.version_option(__version__, prog_name="vod")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail.")
def main(verbose: bool) -> None:
    """vod: watch, search and link the recordings of technical conferences."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )


catalog_option = click.option(
    "--catalog",
    type=click.Path(path_type=Path),
    envvar="VOD_CATALOG",
    help="Catalog file or folder [env: VOD_CATALOG; default: the bundled catalog].",
)
index_option = click.option(
    "--index-dir",
    type=click.Path(path_type=Path),
    envvar="VOD_INDEX_DIR",
    help="Index folder [env: VOD_INDEX_DIR; default: index/].",
)


def _load(settings: Settings) -> Catalog:
    from vod.catalog import catalog_cache_dir, load_catalog_cached

    try:
        return load_catalog_cached(settings.catalog, catalog_cache_dir(settings.index_dir))
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None


def _build(
    settings: Settings, catalog: Catalog, full: bool = False, serving: bool = False
) -> IndexInfo | None:
    from vod.index.build import NewerIndexLive, index_error
    from vod.index.incremental import update_index
    from vod.progress import progress
    from vod.storage import storage_from_settings

    total = len(catalog.talks)
    try:  # captions are read from the store, and recordings looked up there (issue #3)
        storage = storage_from_settings(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    # Only the talks that changed are re-indexed when the live version allows it (issue #5).
    try:
        with progress(f"Indexing talks into {settings.index_dir}", total, "talks") as update:
            return update_index(
                catalog,
                settings.index_dir,
                progress=update,
                storage=storage,
                full=full,
                parallel=True,
                source=settings.catalog,
                waiting=lambda message: click.echo(f"{message}...", err=True),
            )
    except NewerIndexLive as exc:
        if not serving:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{exc}; serving it.", err=True)  # a newer index is fine to serve
        return None
    except (OSError, VodError) as exc:  # disk full, no permission, another catalog's index
        raise click.ClickException(index_error(exc, settings.index_dir)) from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes."
)
@click.option(
    "--media-dir",
    type=click.Path(path_type=Path),
    envvar="VOD_MEDIA_DIR",
    help="Local recordings folder [env: VOD_MEDIA_DIR; default: media/].",
)
@click.option(
    "--get",
    "get_path",
    metavar="PATH",
    help="Render one path in-process, print it, and exit (a smoke test; no server).",
)
@click.option(
    "--index-from-s3",
    is_flag=True,
    help="Serve the newest index snapshot published in VOD_S3_BUCKET (and its catalog), "
    "polling for newer ones every VOD_INDEX_POLL seconds; never build locally.",
)
@catalog_option
@index_option
def serve(
    host: str,
    port: int,
    workers: int,
    media_dir: Path | None,
    get_path: str | None,
    index_from_s3: bool,
    catalog: Path | None,
    index_dir: Path | None,
) -> None:
    """Serve the site, building the index first when it is missing or stale."""
    from vod.index import index_state

    settings = _settings(catalog=catalog, index_dir=index_dir, media_dir=media_dir)
    if index_from_s3:
        settings = _follow_snapshots(settings)
        catalog = settings.catalog  # workers read it from the environment
    loaded = _load(settings)
    state = index_state(settings.index_dir, loaded, settings.catalog)
    if state != "current" and not index_from_s3:
        click.echo(f"The index is {state}; building it first.", err=True)
        _build(settings, loaded, serving=True)
    if get_path is not None:
        _get(settings, get_path)
        return
    from vod.web.workers import run_server

    try:
        run_server(
            settings, host, port, workers, len(loaded.talks), catalog, media_dir, say=_say_err
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None


def _follow_snapshots(settings: Settings) -> Settings:
    from vod.snapshots import follow_snapshots

    try:
        return follow_snapshots(settings, say=_say_err)
    except VodError as exc:
        raise click.ClickException(str(exc)) from None


def _say_err(text: str) -> None:
    click.echo(text, err=True)


def _get(settings: Settings, path: str) -> None:
    from vod.web.smoke import StartupFailed, get

    try:
        status, text = get(settings, path)
    except (StartupFailed, VodError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text)
    if status >= 400:
        raise SystemExit(1)


@main.command("index")
@click.option(
    "--publish",
    is_flag=True,
    help="Also upload the built version and its catalog to VOD_S3_BUCKET as an immutable "
    "snapshot (under VOD_INDEX_S3_PREFIX), for hosts running `vod serve --index-from-s3`.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild every talk, not only those that changed (after recordings or captions "
    "changed in the store).",
)
@catalog_option
@index_option
def index_command(publish: bool, full: bool, catalog: Path | None, index_dir: Path | None) -> None:
    """Bring the search index up to date with the catalog, then switch to it atomically."""
    # A build is background work: on a host that also serves, the workers keep the CPU (a
    # rebuild beside 2 busy workers raised p99 talk pages to 209 ms). Idle, it is as fast.
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice (Windows)
        os.nice(BUILD_NICENESS)
    settings = _settings(catalog=catalog, index_dir=index_dir)
    if publish and not settings.s3_bucket:
        raise click.ClickException("--publish needs VOD_S3_BUCKET")
    if publish and not settings.snapshot_key:
        raise click.ClickException(
            "--publish needs VOD_SNAPSHOT_KEY: hosts serve only snapshots signed with it"
        )
    loaded = _load(settings)
    info = _build(settings, loaded, full=full)
    assert info is not None  # only a build for serving gives way to a newer live index
    click.echo(f"Index {info.path.name}: {info.documents} talks, now live.")
    if publish:
        from vod.snapshots import publish_built

        try:
            where = publish_built(settings, info)
        except VodError as exc:
            raise click.ClickException(f"publishing the snapshot failed: {exc}") from None
        click.echo(f"Published snapshot {where}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--external",
    is_flag=True,
    help="Also check every external recording link over HTTP (HEAD, else a 1-byte GET); "
    "dead links are reported with file and line.",
)
@click.option(
    "--jobs",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="External links checked at once (--external).",
)
@click.option(
    "--per-host-rate",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.01, 100),
    help="Requests a second to any one host (--external).",
)
@catalog_option
def check(
    as_json: bool, external: bool, jobs: int, per_host_rate: float, catalog: Path | None
) -> None:
    """Validate the catalog and check that every recording exists in storage."""
    from vod.catalog.check import check_catalog
    from vod.storage import storage_from_settings

    settings = _settings(catalog=catalog)
    try:
        report = check_catalog(
            settings.catalog,
            lambda: storage_from_settings(settings),
            external=external,
            jobs=jobs,
            per_host_rate=per_host_rate,
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(report.as_json())
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@main.command()
@click.argument("query")
@click.option(
    "--page", default=1, show_default=True, type=click.IntRange(1, 50), help="Page of results."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@catalog_option
@index_option
def search(
    query: str, page: int, as_json: bool, catalog: Path | None, index_dir: Path | None
) -> None:
    """Search the catalog from the shell."""
    from vod.config import catalog_identity
    from vod.index import SearchIndex, index_state
    from vod.index.printout import results_json, results_text

    settings = _settings(catalog=catalog, index_dir=index_dir)
    loaded = _load(settings)
    if index_state(settings.index_dir, loaded, settings.catalog) != "current":
        _build(settings, loaded, serving=True)
    try:
        own = catalog_identity(settings.catalog)  # never another catalog's index (issue 10)
        results = SearchIndex(settings.index_dir, own).search(query, page=page)
    except VodError as exc:  # a query it cannot run, no index, a damaged one
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(results_json(results))
        return
    for line in results_text(results, query, loaded):
        click.echo(line)


# ---- importing and exporting catalogs (issue #5) -------------------------------------------

out_option = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalog folder to write (and to merge into, when it holds an earlier import).",
)


@main.group("import")
def import_group() -> None:
    """Convert another catalog format into vod catalog files (pyvideo, schedule.json)."""


def _finish_import(report: ImportReport, out: Path, as_json: bool, index_dir: Path | None) -> None:
    from vod.catalog import catalog_cache_dir
    from vod.importers.outcome import check_import

    settings = _settings(index_dir=index_dir)
    # Check what was written, as `vod serve` will read it (and warm its catalog cache).
    outcome = check_import(report, out, catalog_cache_dir(settings.index_dir))
    if as_json:
        click.echo(outcome.as_json())
    else:
        for line in outcome.lines():
            click.echo(line)
    if outcome.catalog is None:
        raise click.ClickException(f"the catalog written to {out} does not load; see above")


@import_group.command("pyvideo")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@out_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@index_option
def import_pyvideo_command(source: Path, out: Path, as_json: bool, index_dir: Path | None) -> None:
    """Import a pyvideo data checkout, or a .tar.gz of one, into catalog files."""
    from vod.importers.merge import MergeError
    from vod.importers.pyvideo import SourceError, import_pyvideo, source_size
    from vod.progress import progress

    try:
        with progress("Reading pyvideo records", *source_size(source)) as update:
            report = import_pyvideo(source, out, progress=update)
    except (SourceError, MergeError) as exc:
        raise click.ClickException(str(exc)) from None
    _finish_import(report, out, as_json, index_dir)


@import_group.command("schedule")
@click.argument("source")
@out_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@index_option
def import_schedule_command(source: str, out: Path, as_json: bool, index_dir: Path | None) -> None:
    """Import a pretalx or frab schedule.json (a file or an http(s) URL) into catalog files."""
    from vod.importers.merge import MergeError
    from vod.importers.schedule import SourceError, import_schedule

    try:
        report = import_schedule(source, out)
    except (SourceError, MergeError) as exc:
        raise click.ClickException(str(exc)) from None
    _finish_import(report, out, as_json, index_dir)


@main.group("export")
def export_group() -> None:
    """Write the catalog in formats other tools read (schedule.json)."""


@export_group.command("schedule")
@click.option("--event", "events", multiple=True, help="Event slug (repeat; default: every event).")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="File to write (one event), or folder (<event>.schedule.json each); default: stdout.",
)
@click.option(
    "--base-url",
    envvar="VOD_BASE_URL",
    help="Public URL of the site, for permalinks [env: VOD_BASE_URL].",
)
@catalog_option
@index_option
def export_schedule_command(
    events: tuple[str, ...],
    out: Path | None,
    base_url: str | None,
    catalog: Path | None,
    index_dir: Path | None,
) -> None:
    """Export events as c3voc schedule.json, with recording URLs and permalinks as links."""
    from vod.exporters.schedule import ExportError, write_schedules

    if not base_url:
        raise click.ClickException(
            "permalinks in the export must be absolute: set VOD_BASE_URL or pass --base-url"
        )
    loaded = _load(_settings(catalog=catalog, index_dir=index_dir))
    try:
        for target, text in write_schedules(loaded, events, base_url, out):
            if target is None:
                click.echo(text)
            else:
                click.echo(f"wrote {target}", err=True)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option(
    "--duplicates",
    is_flag=True,
    help="List pairs of speakers that are probably one person, for you to confirm.",
)
@click.option(
    "--sort",
    type=click.Choice(["catalog", "talks", "name"]),
    default="catalog",
    show_default=True,
    help="Order: as in the catalog, by number of talks (most first), or by name.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@catalog_option
@index_option
def speakers(
    duplicates: bool, sort: str, as_json: bool, catalog: Path | None, index_dir: Path | None
) -> None:
    """List speakers with their talk counts, or likely duplicates to merge."""
    from vod.catalog.identity import (
        duplicate_lines,
        duplicate_rows,
        sort_speaker_rows,
        speaker_lines,
        speaker_row,
    )

    loaded = _load(_settings(catalog=catalog, index_dir=index_dir))
    if duplicates:
        rows = duplicate_rows(loaded)
        lines = duplicate_lines(rows)
    else:
        rows = sort_speaker_rows([speaker_row(loaded, slug) for slug in loaded.speakers], sort)
        lines = speaker_lines(rows)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for line in lines:
        click.echo(line)


# ---- recordings: vod media, vod upload (issue #14; the work is in vod/media/) ----------------

media_dir_option = click.option(
    "--media-dir",
    type=click.Path(path_type=Path),
    envvar="VOD_MEDIA_DIR",
    help="Local recordings folder [env: VOD_MEDIA_DIR; default: media/].",
)
renditions_option = click.option(
    "--renditions",
    metavar="LIST",
    help="Also make smaller video renditions, e.g. 360p,720p (240p to 1080p; default: none).",
)


def _media_run(work: Any) -> None:
    try:
        ok = work()
    except VodError as exc:
        raise click.ClickException(str(exc)) from None
    if not ok:
        raise SystemExit(1)


@main.command()
@click.option("--talk", "talks", multiple=True, metavar="SLUG", help="Only this talk (repeat).")
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Recordings processed at once (ffmpeg also uses several cores for each).",
)
@click.option("--force", is_flag=True, help="Process recordings again even when unchanged.")
@renditions_option
@media_dir_option
@catalog_option
@index_option
def media(
    talks: tuple[str, ...],
    jobs: int,
    force: bool,
    renditions: str | None,
    media_dir: Path | None,
    catalog: Path | None,
    index_dir: Path | None,
) -> None:
    """Make posters, seek previews, audio-only files and renditions beside each recording."""
    from vod.media.commands import media_command, media_options

    settings = _settings(catalog=catalog, index_dir=index_dir, media_dir=media_dir)
    _media_run(
        lambda: media_command(settings, talks, media_options(jobs, force, renditions), click.echo)
    )


@main.command()
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@renditions_option
@media_dir_option
@catalog_option
@index_option
def upload(
    slug: str,
    file: Path,
    renditions: str | None,
    media_dir: Path | None,
    catalog: Path | None,
    index_dir: Path | None,
) -> None:
    """Put a recording at its talk's key in the store, verify it, then run vod media on it."""
    from vod.media.commands import media_options, upload_command

    settings = _settings(catalog=catalog, index_dir=index_dir, media_dir=media_dir)
    _media_run(
        lambda: upload_command(
            settings, slug, file, media_options(1, False, renditions), click.echo
        )
    )
