"""PrometheusMiddleware: route templates, unmatched paths, statuses, exceptions, pass-through."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from app.monitoring.metrics import MetricsCollector
from app.monitoring.middleware import PrometheusMiddleware


def requests(collector: MetricsCollector, method: str, route: str, status: str) -> float | None:
    return collector.registry.get_sample_value(
        "http_requests_total",
        {"app": "a", "version": "1", "method": method, "route": route, "status": status},
    )


@pytest.fixture
def collector() -> MetricsCollector:
    return MetricsCollector("a", "1")


@pytest.fixture
def app(collector: MetricsCollector, tmp_path) -> FastAPI:
    app = FastAPI()
    (tmp_path / "logo.txt").write_text("hi")

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.post("/items")
    async def create() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("kaboom")

    app.router.routes.append(Mount("/static", app=StaticFiles(directory=tmp_path)))
    app.add_middleware(PrometheusMiddleware, collector=collector)
    return app


@pytest.fixture
async def client(app: FastAPI):
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_requests_are_labelled_by_route_template_not_path(client, collector):
    for item_id in (1, 2, 3):
        assert (await client.get(f"/items/{item_id}")).status_code == 200
    assert (await client.get("/items/not-a-number")).status_code == 422

    assert requests(collector, "GET", "/items/{item_id}", "200") == 3
    assert requests(collector, "GET", "/items/{item_id}", "422") == 1
    assert requests(collector, "GET", "/items/1", "200") is None


async def test_unmatched_paths_share_one_label(client, collector):
    for path in ("/wp-admin", "/.env", "/a/b/c/d"):
        assert (await client.get(path)).status_code == 404
    assert requests(collector, "GET", "<unmatched>", "404") == 3


async def test_method_not_allowed_keeps_the_template(client, collector):
    assert (await client.delete("/items/1")).status_code == 405
    assert requests(collector, "DELETE", "/items/{item_id}", "405") == 1


async def test_mounted_app_is_labelled_by_its_mount(client, collector):
    assert (await client.get("/static/logo.txt")).status_code == 200
    assert requests(collector, "GET", "/static/{path:path}", "200") == 1


async def test_unhandled_exception_is_a_500_and_counted_by_type(client, collector):
    response = await client.get("/boom")
    assert response.status_code == 500
    assert requests(collector, "GET", "/boom", "500") == 1
    assert collector.registry.get_sample_value(
        "unhandled_exceptions_total", {"app": "a", "version": "1", "type": "KeyError"}
    ) == 1


async def test_in_progress_returns_to_zero(client, collector):
    await client.get("/items/1")
    await client.get("/boom")
    assert collector.registry.get_sample_value(
        "http_requests_in_progress", {"app": "a", "version": "1"}
    ) == 0


async def test_duration_is_recorded_per_template(client, collector):
    await client.post("/items")
    assert collector.registry.get_sample_value(
        "http_request_duration_seconds_count",
        {"app": "a", "version": "1", "method": "POST", "route": "/items"},
    ) == 1


async def test_non_http_scopes_pass_through(collector):
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    middleware = PrometheusMiddleware(inner, collector)
    await middleware({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    await middleware({"type": "websocket", "path": "/ws", "headers": []}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan", "websocket"]
    assert b"http_requests_total{" not in collector.render()[0]


async def test_exception_is_reraised_unchanged(collector):
    async def failing_app(scope, receive, send):
        raise RuntimeError("inner")

    middleware = PrometheusMiddleware(failing_app, collector)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with pytest.raises(RuntimeError, match="inner"):
        await middleware(scope, None, None)  # type: ignore[arg-type]
    assert requests(collector, "GET", "<unmatched>", "500") == 1


def test_observe_request_labels_a_request_refused_before_routing_by_its_route() -> None:
    import time

    from prometheus_client import generate_latest

    from tests.support.asgi import http_scope

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    metrics = MetricsCollector("fraud", "v3")
    started = time.perf_counter() - 0.25
    metrics.http.observe_request(http_scope("/items/9"), 429, started, "", app.router.routes)
    metrics.http.observe_request(http_scope("/nowhere"), 404, started, "", app.router.routes)
    text = generate_latest(metrics.registry).decode()
    assert 'method="GET",route="/items/{item_id}",status="429"' in text
    assert 'route="<unmatched>",status="404"' in text
    assert 'le="0.5",method="GET",route="/items/{item_id}",version="v3"} 1.0' in text
