"""Build a named route's path without trying every route in turn.

Starlette's `app.url_path_for` walks the route table and raises an exception for each route
that does not match the name; a talk page builds dozens of links, so that walk was a tenth of
its rendering time. Here the route with the name is found once per application.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Mount

MAX_MOUNTED_PATHS = 256  # templates name a handful of static files


def path_for(app: Any, name: str, /, **params: Any) -> str:
    """Return the path of the route called `name` in `app` (Starlette's NoMatchFound if none)."""
    by_name: dict[str, Any] | None = getattr(app.state, "_routes_by_name", None)
    if by_name is None:
        by_name = {r.name: r for r in app.routes if getattr(r, "name", None)}
        app.state._routes_by_name = by_name
    route = by_name.get(name)
    if route is not None and not isinstance(route, Mount):
        return str(route.url_path_for(name, **params))
    # Mounts ("static"): the few asset paths the templates name, remembered per application.
    mounted: dict[tuple[Any, ...], str] | None = getattr(app.state, "_mounted_paths", None)
    if mounted is None:
        mounted = app.state._mounted_paths = {}
    key = (name, *sorted(params.items()))
    path = mounted.get(key)
    if path is None:
        path = str(app.url_path_for(name, **params))
        if len(mounted) < MAX_MOUNTED_PATHS:
            mounted[key] = path
    return path
