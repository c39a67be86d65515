"""Probes against real peers: redis-server, Prometheus, a stand-in Prefect API / kube-apiserver
(`/api/health`, `/readyz`), and a server that accepts connections but never answers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from app.config import Settings
from app.monitoring.health import ComponentStatus, HealthCheckCollector, OverallStatus
from app.monitoring.probes import build_checks, critical_components
from tests.support.http_servers import running_silent_server, running_stub_api
from tests.support.ports import free_port
from tests.support.redis_server import running_redis

pytestmark = pytest.mark.integration
HANG_GUARD = 10


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


async def run(checks, deadline: float = 1.0):
    report = await asyncio.wait_for(HealthCheckCollector(checks, deadline).check(), HANG_GUARD)
    return report, {c.name: c for c in report.components}


async def test_all_real_dependencies_up(redis_server, prometheus_server, http):
    redis = Redis.from_url(redis_server.url)
    with running_stub_api({"/api/health": (200, "true"), "/readyz": (200, "ok")}) as stub:
        checks = build_checks(
            critical={"redis"}, redis=redis, http=http,
            prometheus_url=prometheus_server.url, prefect_api_url=f"{stub}/api",
            kubernetes_api_url=stub,
        )
        report, components = await run(checks, deadline=5.0)
    await redis.aclose()
    assert report.status is OverallStatus.HEALTHY
    assert set(components) == {"redis", "prometheus", "prefect", "kubernetes"}
    assert all(c.latency_ms > 0 for c in components.values())
    assert components["redis"].critical
    assert not components["prometheus"].critical


async def test_unconfigured_dependencies_are_left_out(http):
    assert build_checks(critical={"redis"}, http=http) == []


async def test_hung_prefect_api_only_degrades_and_is_cut_off(redis_server, http):
    redis = Redis.from_url(redis_server.url)
    with running_silent_server() as silent:
        report, components = await run(
            build_checks(critical={"redis"}, redis=redis, http=http,
                         prefect_api_url=f"{silent}/api"),
            deadline=0.5,
        )
    await redis.aclose()
    assert components["prefect"].status is ComponentStatus.DOWN
    assert components["prefect"].error == "no answer within 0.5s"
    assert components["redis"].status is ComponentStatus.UP
    assert report.status is OverallStatus.DEGRADED


async def test_error_status_from_a_dependency_is_down(http):
    with running_stub_api({"/api/health": (503, '{"detail":"starting"}')}) as stub:
        _, components = await run(
            build_checks(critical=set(), http=http, prefect_api_url=f"{stub}/api")
        )
    assert components["prefect"].status is ComponentStatus.DOWN
    assert "HTTP 503" in (components["prefect"].error or "")


async def test_refused_prometheus_is_down(http):
    _, components = await run(
        build_checks(critical=set(), http=http, prometheus_url=f"http://127.0.0.1:{free_port()}")
    )
    assert components["prometheus"].status is ComponentStatus.DOWN
    assert "ConnectError" in (components["prometheus"].error or "")


async def test_frozen_redis_makes_the_service_unhealthy(tmp_path):
    with running_redis(tmp_path) as server:
        redis = Redis.from_url(server.url)
        await redis.ping()
        server.pause()
        try:
            report, components = await run(build_checks(critical={"redis"}, redis=redis), 0.2)
        finally:
            server.resume()
        await redis.aclose()
    assert components["redis"].status is ComponentStatus.DOWN
    assert report.status is OverallStatus.UNHEALTHY
    assert report.status.http_status == 503


async def test_critical_set_decides_what_is_unhealthy(http):
    with running_silent_server() as silent:
        report, _ = await run(
            build_checks(critical={"prometheus"}, http=http, prometheus_url=silent), 0.1
        )
    assert report.status is OverallStatus.UNHEALTHY


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"rate_limiter"}),
        ({"redis_failure_mode": "closed"}, {"rate_limiter", "redis"}),
        ({"health_critical_components": ["prefect"]}, {"prefect"}),
        ({"health_critical_components": []}, set()),
    ],
)
def test_critical_components_follow_the_failure_policy(overrides, expected):
    assert critical_components(Settings(**overrides)) == expected
