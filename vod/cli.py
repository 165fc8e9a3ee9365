"""The `vod` command line: thin wrappers over the catalog, index, storage and app modules."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from vod import __version__
from vod.config import SETTINGS, Settings
from vod.errors import CatalogError, ConfigError, QueryError, StorageUnavailable

log = logging.getLogger("vod")


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


@click.group(epilog=_settings_epilog())
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


def _load(settings: Settings) -> Any:
    from vod.catalog import load_catalog

    try:
        return load_catalog(settings.catalog)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None


def _build(settings: Settings, catalog: Any) -> Any:
    from vod.index import build_index

    total = len(catalog.talks)
    if sys.stderr.isatty():
        with click.progressbar(length=total, label="Indexing talks", file=sys.stderr) as bar:
            return build_index(catalog, settings.index_dir, progress=bar.update)
    log.info("indexing %d talks into %s", total, settings.index_dir)
    return build_index(catalog, settings.index_dir)


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
    state = index_state(settings.index_dir, loaded)
    if state != "current" and not index_from_s3:
        click.echo(f"The index is {state}; building it first.", err=True)
        _build(settings, loaded)
    if get_path is not None:
        _get(settings, get_path)
        return
    import uvicorn

    # Workers read their settings from the environment: pass the CLI's choices on.
    for name, value in (
        ("VOD_CATALOG", catalog),
        ("VOD_INDEX_DIR", index_dir),
        ("VOD_MEDIA_DIR", media_dir),
    ):
        if value is not None:
            os.environ[name] = str(value)
    click.echo(f"Serving {len(loaded.talks)} talks on http://{host}:{port}/", err=True)
    uvicorn.run(
        "vod.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )


def _follow_snapshots(settings: Settings) -> Settings:
    """Fetch the newest published snapshot, start polling for newer ones, and return the
    settings that serve it (the catalog is read from the snapshot)."""
    from vod.index import current_version
    from vod.snapshots import (
        SnapshotError,
        SnapshotPoller,
        fetch,
        live_catalog_path,
        snapshot_store,
    )

    if not settings.s3_bucket:
        raise click.ClickException("--index-from-s3 needs VOD_S3_BUCKET")
    store = snapshot_store(settings.s3_bucket, settings.index_s3_prefix, settings.s3_timeout)
    try:
        info = fetch(store, settings.index_dir)
        click.echo(f"Index snapshot {info.path.name}: {info.documents} talks.", err=True)
    except SnapshotError as exc:
        if current_version(settings.index_dir) is None:
            raise click.ClickException(f"{exc}; no earlier snapshot to serve") from None
        click.echo(f"Warning: {exc}; serving the snapshot already here.", err=True)
    # A daemon thread in the serving (or supervising) process: it lives as long as the server.
    SnapshotPoller(store, settings.index_dir, settings.index_poll).start()
    return settings.replace(catalog=live_catalog_path(settings.index_dir))


def _get(settings: Settings, path: str) -> None:
    from starlette.testclient import TestClient

    from vod.app import create_app

    with TestClient(create_app(settings)) as client:
        response = client.get(path, follow_redirects=False)
    click.echo(response.text)
    if response.status_code >= 400:
        raise SystemExit(1)


@main.command("index")
@click.option(
    "--publish",
    is_flag=True,
    help="Also upload the built version and its catalog to VOD_S3_BUCKET as an immutable "
    "snapshot (under VOD_INDEX_S3_PREFIX), for hosts running `vod serve --index-from-s3`.",
)
@catalog_option
@index_option
def index_command(publish: bool, catalog: Path | None, index_dir: Path | None) -> None:
    """Rebuild the search index from the catalog and switch to it atomically."""
    settings = _settings(catalog=catalog, index_dir=index_dir)
    if publish and not settings.s3_bucket:
        raise click.ClickException("--publish needs VOD_S3_BUCKET")
    loaded = _load(settings)
    info = _build(settings, loaded)
    click.echo(f"Index {info.path.name}: {info.documents} talks, now live.")
    if publish:
        from botocore.exceptions import BotoCoreError, ClientError

        from vod.snapshots import publish as publish_snapshot
        from vod.snapshots import snapshot_store

        assert settings.s3_bucket is not None
        store = snapshot_store(settings.s3_bucket, settings.index_s3_prefix, settings.s3_timeout)
        try:
            version = publish_snapshot(store, info, settings.catalog)
        except (BotoCoreError, ClientError) as exc:
            raise click.ClickException(f"publishing the snapshot failed: {exc}") from None
        click.echo(f"Published snapshot {version} to s3://{store.bucket}/{store.key(version)}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@catalog_option
def check(as_json: bool, catalog: Path | None) -> None:
    """Validate the catalog and check that every recording exists in storage."""
    from vod.catalog import validate_catalog
    from vod.storage import storage_from_settings

    settings = _settings(catalog=catalog)
    loaded, problems = validate_catalog(settings.catalog)
    errors = [p.as_dict() for p in problems]
    missing: list[dict[str, str]] = []
    unreachable: list[dict[str, str]] = []
    storage_name = ""
    if loaded is not None:
        try:
            storage = storage_from_settings(settings)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        storage_name = storage.describe()
        for talk in loaded.talks.values():
            key = talk.recording.key
            if key is None:
                continue
            try:
                if not storage.exists(key):
                    missing.append({"talk": talk.slug, "key": key})
            except StorageUnavailable as exc:
                unreachable.append({"talk": talk.slug, "key": key, "error": str(exc)})
                break  # one clear message; the store is down for the others too
    ok = not errors and not missing and not unreachable
    if as_json:
        out: dict[str, Any] = {"ok": ok, "errors": errors, "missing": missing}
        if unreachable:
            out["unreachable"] = unreachable
        click.echo(json.dumps(out, indent=2))
    else:
        for p in problems:
            click.echo(f"error: {p}")
        for m in missing:
            click.echo(f"missing: {m['talk']}: no recording at {m['key']} in {storage_name}")
        for u in unreachable:
            click.echo(f"unreachable: {storage_name}: {u['error']}")
        if ok:
            talks = len(loaded.talks) if loaded else 0
            click.echo(f"OK: {talks} talks, every recording present in {storage_name}.")
        else:
            click.echo(
                f"{len(errors)} catalog error(s), {len(missing)} missing recording(s)"
                + (", storage unreachable" if unreachable else "")
                + "."
            )
    if not ok:
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
    import html
    import re

    from vod.index import SearchIndex, index_state

    settings = _settings(catalog=catalog, index_dir=index_dir)
    loaded = _load(settings)
    if index_state(settings.index_dir, loaded) != "current":
        _build(settings, loaded)
    try:
        results = SearchIndex(settings.index_dir).search(query, page=page)
    except QueryError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": results.query,
                    "total": results.total,
                    "corrected": results.corrected,
                    "results": [
                        {"slug": h.slug, "score": h.score, "snippet": h.snippet}
                        for h in results.hits
                    ],
                },
                indent=2,
            )
        )
        return
    if results.searched_corrected:
        click.echo(f"No talks match {query!r}; showing results for {results.corrected!r}.")
    elif results.corrected:
        click.echo(f"Did you mean: {results.corrected}?")
    click.echo(f"{results.total} talk(s) match.")
    for hit in results.hits:
        talk = loaded.talks.get(hit.slug)
        title = talk.display_title if talk else hit.slug
        snippet = html.unescape(re.sub(r"</?mark>", "*", hit.snippet))
        click.echo(f"\n{title}\n  /talks/{hit.slug}  (score {hit.score:.2f})\n  {snippet}")
