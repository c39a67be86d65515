"""The route label of a request: its route TEMPLATE, never its raw path.

Starlette's router stores the matched route in `scope["route"]`, so `/items/42` is labelled
`/items/{item_id}`; a request no route matched is `<unmatched>` (scanners probing random paths
cannot blow up the series count). A request an inner middleware answered before routing (429,
400, 413) is labelled by the route that WOULD have served it.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

from app.monitoring.names import UNMATCHED_ROUTE


def request_route(
    scope: Scope, outer_root_path: str, status: int, routes: Sequence[BaseRoute] = ()
) -> str:
    """The label of a finished request: `route_template`, or for a request refused before
    routing (no route recorded, not a 404) the template `routes` would have matched."""
    route = route_template(scope, outer_root_path)
    if route == UNMATCHED_ROUTE and status != 404 and routes:
        route = match_template(routes, scope)  # refused before routing: rare
    return route


def route_template(scope: Scope, outer_root_path: str = "") -> str:
    """The matched route's template, prefixed by any mount it sits under; `<unmatched>` if none.

    Routers record the matched route in `scope["route"]` (FastAPI only for its own routes, not
    for a plain `Mount`). A mount's prefix is read from `root_path`, which the mount extends by
    the CONCRETE matched prefix: mounts with path parameters would leak values into the label,
    so keep parameters out of mounts (FastAPI's `include_router` copies routes, it does not
    mount, so this is the rare case).
    """
    route = scope.get("route")
    root_path: str = scope.get("root_path", "")
    if route is not None and root_path == outer_root_path and type(route) is not Mount:
        path = getattr(route, "path", None)  # the common case: a route of the app itself
        return path if isinstance(path, str) else UNMATCHED_ROUTE
    prefix = root_path[len(outer_root_path):] if len(root_path) > len(outer_root_path) else ""
    path = getattr(route, "path", None)
    if isinstance(route, Mount) or (route is None and prefix):
        mount_path = path if isinstance(route, Mount) and isinstance(path, str) else prefix
        return f"{mount_path}/{{path:path}}"
    if not isinstance(path, str):
        return UNMATCHED_ROUTE
    return prefix + path


def match_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The template of the route that WOULD serve `scope`, for requests an inner middleware
    answered before routing (429, 400, 413); `<unmatched>` if none would."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            path = getattr(route, "path", None)
            if isinstance(route, Mount) and isinstance(path, str):
                return f"{path}/{{path:path}}"
            return path if isinstance(path, str) else UNMATCHED_ROUTE
    return UNMATCHED_ROUTE
