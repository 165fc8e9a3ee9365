"""Operator endpoints: /healthz, and rebuilding the index behind VOD_ADMIN_TOKEN."""

from __future__ import annotations

import hmac
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import vod
from vod.config import Settings
from vod.errors import CatalogError
from vod.snapshots import snapshot_health
from vod.web.state import AppState, vod_state

log = logging.getLogger(__name__)

_build_lock = threading.Lock()  # one rebuild at a time per process
BUILD_TIMEOUT = 3600  # seconds; pyvideo's 21,700 talks take about a minute


def _authorized(request: Request) -> Response | None:
    """Return an error response unless the request carries the admin token."""
    token = vod_state(request).settings.admin_token
    if not token:
        return JSONResponse(
            {"error": "admin actions are disabled; set VOD_ADMIN_TOKEN to enable them"},
            status_code=403,
        )
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    offered = value.strip() if scheme.lower() == "bearer" else ""
    # Constant-time comparison: the answer time says nothing about how much of it matched.
    if not hmac.compare_digest(
        offered.encode("utf-8", "surrogateescape"), token.encode("utf-8", "surrogateescape")
    ):
        return JSONResponse(
            {"error": "missing or wrong admin token (send Authorization: Bearer <token>)"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="vod admin"'},
        )
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _rebuild(state: AppState) -> None:
    from vod.catalog import catalog_cache_dir, load_catalog_cached
    from vod.index import current_version

    job = state.jobs["reindex"]
    try:
        settings = state.settings
        # Checked here, so that problems come back with their file, line and field...
        load_catalog_cached(settings.catalog, catalog_cache_dir(settings.index_dir))
        # ...and built by `vod index` in a process of its own, at its lower CPU priority: a
        # build in this worker's threads would hold the GIL its requests need for a minute.
        done = subprocess.run(
            [sys.executable, "-m", "vod", "index", "--full"],
            env=_build_env(settings),
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"vod index exited with {done.returncode}: {last}")
        info = current_version(settings.index_dir)
        if info is None:
            raise RuntimeError("vod index left no live version")
    except CatalogError as exc:
        job.update(
            status="failed",
            finished=_now(),
            error="the catalog is invalid; the live index keeps serving",
            problems=[p.as_dict() for p in exc.problems],
        )
        log.error("admin reindex refused: %s", exc)
    except Exception as exc:
        job.update(
            status="failed",
            finished=_now(),
            error=f"the build failed; the live index keeps serving: {exc}",
        )
        log.exception("admin reindex failed")
    else:
        job.update(status="done", finished=_now(), version=info.path.name, documents=info.documents)
    finally:
        _build_lock.release()


def _build_env(settings: Settings) -> dict[str, str]:
    """The environment of the `vod index` process: this app's settings and this copy of vod."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    env.update(settings.to_env())
    code = str(Path(vod.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (code, env.get("PYTHONPATH")) if p)
    return env


def reindex(request: Request) -> Response:
    """POST starts a rebuild in the background (202); GET reports the last one."""
    if (denied := _authorized(request)) is not None:
        return denied
    state = vod_state(request)
    if request.method == "GET":
        last = state.jobs.get("reindex") or {"status": "never run"}
        return JSONResponse(last, headers={"Cache-Control": "no-store"})
    if not _build_lock.acquire(blocking=False):
        return JSONResponse(
            {"error": "a rebuild is already running", **state.jobs["reindex"]}, status_code=409
        )
    job: dict[str, Any] = {"status": "running", "started": _now()}
    state.jobs["reindex"] = job
    threading.Thread(target=_rebuild, args=(state,), name="vod-reindex", daemon=True).start()
    return JSONResponse(job, status_code=202, headers={"Cache-Control": "no-store"})


def healthz(request: Request) -> Response:
    """Report the catalog, the live index and the store; 200 while the site can serve."""
    state = vod_state(request)
    # ok, fallback (a damaged version skipped), mismatch (another catalog's), damaged, missing
    index = state.search.health()
    storage = state.recordings.health()
    catalog = state.catalog
    catalog_error = state.live_catalog.error
    healthy = index["status"] == "ok" and storage["status"] == "ok" and not catalog_error
    body = {
        "status": "ok" if healthy else "degraded",
        "catalog": {
            "status": "degraded" if catalog_error else "ok",
            "detail": catalog_error,
            "talks": len(catalog.talks),
            "events": len(catalog.events),
            "digest": catalog.digest,
        },
        "index": index,
        "storage": storage,
    }
    snapshots = snapshot_health(state.settings.index_dir)  # on `vod serve --index-from-s3`
    if snapshots is not None:
        body["snapshots"] = snapshots
        if snapshots.get("status") != "ok":
            body["status"] = "degraded"
    # Degraded storage keeps the site up: the load balancer should keep sending traffic.
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
