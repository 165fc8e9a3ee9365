"""What every request can reach: the app state the lifespan sets up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.templating import Jinja2Templates

    from vod.catalog import Catalog
    from vod.config import Settings
    from vod.index import SearchIndex
    from vod.storage import Recordings


@dataclass
class AppState:
    """The loaded catalog, the live index, the recording store and the templates."""

    settings: Settings
    catalog: Catalog
    search: SearchIndex
    recordings: Recordings
    templates: Jinja2Templates


def vod_state(request: Request) -> AppState:
    """Return the app state of a request (set up by the lifespan)."""
    state: AppState = request.state.vod
    return state
