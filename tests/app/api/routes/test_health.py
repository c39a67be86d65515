"""/health and /health/detailed on the assembled app, against real dependencies."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.support.http_servers import running_silent_server, running_stub_api
from tests.support.redis_server import running_redis

pytestmark = pytest.mark.integration
HANG_GUARD = 10


async def detailed(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await asyncio.wait_for(client.get("/health/detailed"), HANG_GUARD)


def settings(**kwargs) -> Settings:
    return Settings(app_name="fraud", app_version="v1", configure_logging=False, **kwargs)


async def test_all_up_is_healthy_200(redis_server, prometheus_server):
    # generous deadlines: on a loaded machine a 50 ms Redis ping can miss the limiter's default
    with running_stub_api({"/api/health": (200, "true"), "/readyz": (200, "ok")}) as stub:
        response = await detailed(settings(
            redis_url=redis_server.url, prometheus_url=prometheus_server.url,
            prefect_api_url=f"{stub}/api", kubernetes_api_url=stub,
            redis_timeout_seconds=2.0, health_check_timeout_seconds=5.0,
        ))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert (body["app"], body["version"]) == ("fraud", "v1")
    assert {name: c["status"] for name, c in body["components"].items()} == {
        "redis": "up", "rate_limiter": "up", "prometheus": "up", "prefect": "up",
        "kubernetes": "up"}
    assert all(c["latency_ms"] > 0 for c in body["components"].values())


async def test_hung_prefect_api_degrades_but_answers_200(redis_server):
    with running_silent_server() as silent:
        response = await detailed(settings(
            redis_url=redis_server.url, prefect_api_url=f"{silent}/api",
            health_check_timeout_seconds=0.5, redis_timeout_seconds=0.4,
        ))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["components"]["prefect"]["error"] == "no answer within 0.5s"
    assert body["components"]["redis"]["status"] == "up"


async def test_redis_down_with_fail_closed_limiter_is_unhealthy_503(tmp_path, prometheus_server):
    with running_redis(tmp_path) as server:
        url = server.url
    # the server is gone now: connections are refused
    response = await detailed(settings(redis_url=url, prometheus_url=prometheus_server.url,
                                       redis_failure_mode="closed"))
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unhealthy"
    assert body["components"]["redis"]["status"] == "down"
    assert body["components"]["redis"]["critical"] is True
    assert body["components"]["rate_limiter"]["status"] == "down"
    assert "fail-closed" in body["components"]["rate_limiter"]["error"]
    assert body["components"]["prometheus"]["status"] == "up"


async def test_redis_down_with_fail_open_limiter_only_degrades(tmp_path):
    """Fail-open: every replica keeps serving, so none must be pulled from the balancer."""
    with running_redis(tmp_path) as server:
        url = server.url
    response = await detailed(settings(redis_url=url))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["components"]["redis"]["status"] == "down"
    assert body["components"]["redis"]["critical"] is False
    assert body["components"]["rate_limiter"]["status"] == "degraded"
    assert "fail-open" in body["components"]["rate_limiter"]["error"]


async def test_in_memory_limiter_is_healthy_without_redis():
    response = await detailed(settings())
    components = response.json()["components"]
    assert response.status_code == 200
    assert list(components) == ["rate_limiter"]
    assert components["rate_limiter"]["status"] == "up"


async def test_critical_components_are_configurable(redis_server):
    with running_stub_api({"/api/health": (500, "{}")}) as stub:
        response = await detailed(settings(
            redis_url=redis_server.url, prefect_api_url=f"{stub}/api",
            health_critical_components=["redis", "prefect"],
        ))
    assert response.status_code == 503
    assert response.json()["components"]["prefect"]["critical"] is True


async def test_liveness_stays_up_while_redis_is_down(tmp_path):
    with running_redis(tmp_path) as server:
        url = server.url
    app = create_app(settings(redis_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health")
    assert response.status_code == 200


async def test_detailed_without_lifespan_is_503_not_500():
    app = create_app(settings())
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/health/detailed")
    assert response.status_code == 503
    assert "lifespan" in response.json()["detail"]
