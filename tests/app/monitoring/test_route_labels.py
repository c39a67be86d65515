"""Route labels: the template of the route a request matched (or would have), never its path."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from app.monitoring.names import UNMATCHED_ROUTE
from app.monitoring.route_labels import match_template, request_route, route_template
from tests.support.asgi import http_scope


@pytest.fixture
def app(tmp_path: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    app.router.routes.append(Mount("/static", app=StaticFiles(directory=tmp_path)))
    return app


def routed(app: FastAPI, path: str, **changes: Any) -> dict[str, Any]:
    """A scope as the router leaves it after matching `path`."""
    scope = http_scope(path)
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match.name == "FULL":
            scope.update(child)
            break
    scope.update(changes)
    return scope


def test_a_matched_route_is_labelled_by_its_template(app: FastAPI) -> None:
    assert route_template(routed(app, "/items/42")) == "/items/{item_id}"


def test_a_mount_is_labelled_by_its_prefix_and_a_path_placeholder(app: FastAPI) -> None:
    scope = routed(app, "/static/logo.txt")
    assert route_template(scope) == "/static/{path:path}"


def test_an_app_served_under_a_root_path_keeps_its_own_templates(app: FastAPI) -> None:
    scope = routed(app, "/items/1", root_path="/api")
    assert route_template(scope, outer_root_path="/api") == "/items/{item_id}"


def test_no_route_is_unmatched(app: FastAPI) -> None:
    assert route_template(http_scope("/wp-admin")) == UNMATCHED_ROUTE
    assert match_template(app.router.routes, http_scope("/wp-admin")) == UNMATCHED_ROUTE


def test_a_request_refused_before_routing_is_labelled_by_the_route_it_was_for(
    app: FastAPI,
) -> None:
    refused = http_scope("/items/9")  # a 429 answered before the router ran: no "route" yet
    assert request_route(refused, "", 429, app.router.routes) == "/items/{item_id}"
    assert request_route(http_scope("/static/a.css"), "", 413, app.router.routes) == (
        "/static/{path:path}"
    )
    assert request_route(refused, "", 429) == UNMATCHED_ROUTE  # no routes given
    assert request_route(http_scope("/nowhere"), "", 404, app.router.routes) == UNMATCHED_ROUTE
