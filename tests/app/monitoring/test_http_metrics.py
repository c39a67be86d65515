"""HttpRequestMetrics: the exposition equals a Counter + Histogram + Gauge with our names."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from app.monitoring.http_metrics import HttpRequestMetrics


@pytest.fixture
def metrics() -> tuple[HttpRequestMetrics, CollectorRegistry]:
    registry = CollectorRegistry()
    http = HttpRequestMetrics("fraud", "v2", buckets=(0.1, 1.0))
    registry.register(http)
    return http, registry


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {"app": "fraud", "version": "v2", **labels})


def test_bucket_bounds_are_inclusive_and_cumulative(metrics):
    http, registry = metrics
    for seconds in (0.05, 0.1, 0.5, 1.0, 7.0):
        http.observe("GET", "/x", 200, seconds)

    def bucket(le: str) -> float | None:
        return value(registry, "http_request_duration_seconds_bucket", method="GET",
                     route="/x", le=le)

    assert bucket("0.1") == 2  # 0.05 and exactly 0.1
    assert bucket("1.0") == 4
    assert bucket("+Inf") == 5
    assert value(registry, "http_request_duration_seconds_count", method="GET",
                 route="/x") == 5
    assert value(registry, "http_request_duration_seconds_sum", method="GET",
                 route="/x") == pytest.approx(8.65)


def test_statuses_are_counted_per_route_and_method(metrics):
    http, registry = metrics
    http.observe("GET", "/x", 200, 0.01)
    http.observe("GET", "/x", 200, 0.01)
    http.observe("GET", "/x", 404, 0.01)
    http.observe("POST", "/x", 201, 0.01)
    assert value(registry, "http_requests_total", method="GET", route="/x", status="200") == 2
    assert value(registry, "http_requests_total", method="GET", route="/x", status="404") == 1
    assert value(registry, "http_requests_total", method="POST", route="/x", status="201") == 1


def test_odd_methods_share_one_series(metrics):
    http, registry = metrics
    for method in ("BREW", "get", "PROPFIND"):
        http.observe(method, "/x", 405, 0.01)
    assert value(registry, "http_requests_total", method="OTHER", route="/x", status="405") == 3


def test_in_progress_is_exported(metrics):
    http, registry = metrics
    http.in_progress = 3
    assert value(registry, "http_requests_in_progress") == 3


def test_text_exposition_types(metrics):
    http, registry = metrics
    http.observe("GET", "/x", 200, 0.01)
    text = generate_latest(registry).decode()
    assert "# TYPE http_requests_total counter" in text
    assert "# TYPE http_request_duration_seconds histogram" in text
    assert "# TYPE http_requests_in_progress gauge" in text


def test_a_clashing_collector_is_refused(metrics):
    from prometheus_client import Counter

    _, registry = metrics
    with pytest.raises(ValueError, match="Duplicated"):
        Counter("http_requests_total", "clash", registry=registry)


def test_buckets_must_ascend():
    with pytest.raises(ValueError, match="ascending"):
        HttpRequestMetrics("a", "1", buckets=(1.0, 0.5))


def _exposition(http: HttpRequestMetrics) -> bytes:
    registry = CollectorRegistry()
    registry.register(http)
    return generate_latest(registry)


def test_observe_request_counts_as_observe_with_the_request_route(tmp_path) -> None:
    """The inline usual case of `observe_request` and its slow path for mounts, refusals,
    outer root paths and odd methods agree with `observe(method, request_route(...))`."""
    from fastapi import FastAPI
    from starlette.routing import Host, Mount
    from starlette.staticfiles import StaticFiles

    from app.monitoring.route_labels import request_route
    from tests.support.asgi import http_scope

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    routes = app.router.routes
    routes.append(Mount("/static", app=StaticFiles(directory=tmp_path)))
    item_route, mount = routes[-2], routes[-1]
    cases = [  # (scope, status, outer root path)
        ({**http_scope("/items/1"), "route": item_route}, 200, ""),
        ({**http_scope("/items/1", method="BREW"), "route": item_route}, 405, ""),
        ({**http_scope("/static/x"), "route": mount, "root_path": "/static"}, 200, ""),
        ({**http_scope("/items/2"), "route": item_route, "root_path": "/api"}, 200, "/api"),
        (http_scope("/items/3"), 429, ""),  # refused before routing
        (http_scope("/nowhere"), 404, ""),
        ({**http_scope("/"), "route": Host("api.example", app=app)}, 200, ""),  # no .path
    ]
    by_request = HttpRequestMetrics("fraud", "v2", buckets=(1.0,))
    by_hand = HttpRequestMetrics("fraud", "v2", buckets=(1.0,))
    for scope, status, outer in cases:
        by_request.observe_request(scope, status, -100.0, outer, routes)  # > 1 s ago
        by_hand.observe(scope["method"], request_route(scope, outer, status, routes), status, 100.0)
    ours, theirs = _exposition(by_request).decode(), _exposition(by_hand).decode()
    strip_sums = [line for line in ours.splitlines() if "_sum" not in line]
    assert strip_sums == [line for line in theirs.splitlines() if "_sum" not in line]
    assert 'method="OTHER",route="/items/{item_id}",status="405"' in ours
    assert 'route="/static/{path:path}",status="200"' in ours
    assert 'route="/items/{item_id}",status="429"' in ours
