"""`PrometheusMiddleware`: pure ASGI request metrics labelled by route TEMPLATE.

Pure ASGI rather than `BaseHTTPMiddleware`: the latter costs ~0.3 ms a request here and runs the
app in another task, which breaks context variables (the correlation id). The route template is
read after the app ran: Starlette's router stores the matched route in `scope["route"]`, so
`/items/42` is recorded as `/items/{item_id}`; a request no route matched is `<unmatched>`
(scanners probing random paths cannot blow up the series count).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.monitoring.http_metrics import HttpRequestMetrics
from app.monitoring.metrics import MetricsCollector
from app.monitoring.names import UNMATCHED_ROUTE


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


class PrometheusMiddleware:
    """Counts every HTTP request and times it to the last body byte.

    An exception escaping the app is counted in `unhandled_exceptions_total` by class and the
    request is recorded with status 500 (what the server error handler outside sends), then the
    exception is re-raised untouched. Non-HTTP scopes pass straight through.
    """

    def __init__(
        self, app: ASGIApp, collector: MetricsCollector, routes: Sequence[BaseRoute] = ()
    ) -> None:
        """`routes` (the app's live route list) label requests refused before routing by the
        route they were meant for; without it they are `<unmatched>`."""
        self.app = app
        self.collector = collector
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        http = self.collector.http
        outer_root_path: str = scope.get("root_path", "")
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        http.in_progress += 1
        try:
            await self.app(scope, receive, send_with_status)
        except Exception as error:
            status = 500
            self.collector.record_unhandled_exception(error)
            raise
        finally:
            http.in_progress -= 1
            record_request(http, self.routes, scope, outer_root_path, status, start)


def record_request(
    http: HttpRequestMetrics, routes: Sequence[BaseRoute], scope: Scope, outer_root_path: str,
    status: int, started: float,
) -> None:
    """Count one finished request under its route template and time it from `started`
    (a `time.perf_counter()` value). `routes` label requests refused before routing."""
    route = route_template(scope, outer_root_path)
    if route == UNMATCHED_ROUTE and status != 404 and routes:
        route = match_template(routes, scope)  # refused before routing: rare
    http.observe(scope["method"], route, status, time.perf_counter() - started)
