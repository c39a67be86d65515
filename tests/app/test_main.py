"""create_app(): routes, middleware order, per-app state, and clients sized by the pool config."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from app.api.deps import SessionStoreDep
from app.config import Environment, Settings
from app.main import create_app, redis_pool_in_use
from tests.support.http_servers import running_slow_server


def settings(**overrides) -> Settings:
    return Settings(app_name="fraud", app_version="v3", configure_logging=False, **overrides)


async def get(app: FastAPI, path: str, **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, **kwargs)


async def test_liveness_needs_no_lifespan_and_no_io():
    app = create_app(settings(redis_url="redis://127.0.0.1:1/0"))  # nothing listens there
    response = await get(app, "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app": "fraud", "version": "v3"}


async def test_two_apps_have_separate_metrics():
    first, second = create_app(settings()), create_app(settings())
    await get(first, "/health")
    assert first.state.metrics.registry is not second.state.metrics.registry
    assert b"/health" in (await get(first, "/metrics")).content
    assert b'route="/health"' not in (await get(second, "/metrics")).content


async def test_metrics_can_be_switched_off():
    app = create_app(settings(prometheus_metrics_enabled=False))
    assert (await get(app, "/metrics")).status_code == 404
    assert (await get(app, "/health")).status_code == 200
    from prometheus_client import generate_latest

    exported = generate_latest(app.state.metrics.registry).decode()
    assert "http_requests_total{" not in exported  # no request was counted


async def test_refused_requests_are_counted_and_carry_the_request_id():
    """Correlation id outermost, metrics next: a 404 gets both."""
    app = create_app(settings())
    response = await get(app, "/nowhere", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "probe-1"
    text = (await get(app, "/metrics")).text
    assert ('http_requests_total{app="fraud",method="GET",route="<unmatched>",status="404",'
            'version="v3"} 1.0') in text


async def test_unhandled_exception_answers_500_with_the_request_id(caplog):
    app = create_app(settings())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("model file missing")

    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = await get(app, "/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "request_id": "req-500"}
    assert response.headers["x-request-id"] == "req-500"
    record = next(r for r in caplog.records if r.name == "app.errors")
    assert record.request_id == "req-500"  # type: ignore[attr-defined]
    assert "RuntimeError" in record.getMessage()


async def test_lifespan_opens_and_closes_clients_sized_by_the_pool_config(redis_server):
    app = create_app(settings(environment=Environment.STAGING, redis_url=redis_server.url,
                              pool_load_multiplier=2))
    async with app.router.lifespan_context(app):
        http: httpx.AsyncClient = app.state.http
        pool = app.state.redis.connection_pool
        assert (app.state.pool_config.size, app.state.pool_config.overflow) == (20, 10)
        assert pool.max_connections == 30
        assert await app.state.redis.ping()
        assert app.state.session_store is not None
    assert http.is_closed


async def test_http_client_never_opens_more_than_size_plus_overflow():
    """40 concurrent calls to a slow peer: at most 10 + 5 connections are open at once."""
    app = create_app(settings(environment=Environment.STAGING, database_pool_overflow=5))
    async with app.router.lifespan_context(app):
        with running_slow_server(0.2) as (url, meter):
            responses = await asyncio.gather(*(app.state.http.get(url) for _ in range(40)))
    assert all(r.status_code == 200 for r in responses)
    assert meter.peak == 15
    assert len(meter.connections) <= 40


async def test_database_pool_settings_override_the_client_pools(redis_server):
    app = create_app(settings(environment=Environment.PRODUCTION, redis_url=redis_server.url,
                              database_pool_size=3, database_pool_overflow=1))
    async with app.router.lifespan_context(app):
        assert app.state.redis.connection_pool.max_connections == 4


async def test_redis_pool_usage_is_exported_and_bounded(redis_server):
    """Checked-out connections show in connection_pool_in_use; past size + overflow a caller
    waits (blocking pool) instead of opening more."""
    app = create_app(settings(redis_url=redis_server.url, database_pool_size=2,
                              database_pool_overflow=0, redis_timeout_seconds=2))
    async with app.router.lifespan_context(app):
        redis = app.state.redis
        blockers = [asyncio.create_task(redis.blpop([f"nothing-{i}"], timeout=0.5))
                    for i in range(2)]
        await asyncio.sleep(0.1)
        in_use = redis_pool_in_use(redis.connection_pool)
        text = (await get(app, "/metrics")).text
        await asyncio.gather(*blockers)
    assert in_use == 2
    assert 'connection_pool_in_use{app="fraud",pool="redis",version="v3"} 2.0' in text
    assert 'connection_pool_capacity{app="fraud",pool="redis",version="v3"} 2.0' in text


async def test_sessions_route_dependency_needs_redis():
    app = create_app(settings())

    @app.get("/sessions/{user}")
    async def sessions(user: str, store: SessionStoreDep) -> list[str]:
        return await store.active_connections(user)

    async with app.router.lifespan_context(app):
        response = await get(app, "/sessions/u1")
    assert response.status_code == 503
    assert "REDIS_URL" in response.json()["detail"]


def test_settings_come_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv("APP_NAME", "from-env")
    monkeypatch.setenv("APP_VERSION", "v9")
    monkeypatch.setenv("CONFIGURE_LOGGING", "false")
    app = create_app()
    assert (app.state.settings.app_name, app.state.metrics.version) == ("from-env", "v9")


def test_bad_environment_fails_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("HEALTH_CRITICAL_COMPONENTS", '["redis", "database"]')
    with pytest.raises(ValueError, match="unknown health components"):
        Settings()


async def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False, client=("10.1.2.3", 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_over_limit_is_429_with_headers_request_id_and_a_metric():
    app = create_app(settings(rate_limit_requests=3, rate_limit_window_seconds=60))

    @app.get("/score/{txn}")
    async def score(txn: int) -> dict[str, int]:
        return {"txn": txn}

    async with app.router.lifespan_context(app), await client_for(app) as client:
        statuses = [(await client.get("/score/1")).status_code for _ in range(3)]
        refused = await client.get("/score/1", headers={"X-Request-ID": "over-1"})
        probes = [(await client.get(p)).status_code for p in ("/health", "/metrics") * 3]
        text = (await client.get("/metrics")).text
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["x-request-id"] == "over-1"
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert int(refused.headers["retry-after"]) >= 1
    assert probes == [200] * 6  # probes and scrapes are never limited
    assert ('http_requests_total{app="fraud",method="GET",route="/score/{txn}",status="429",'
            'version="v3"} 1.0') in text
    assert "floodgate_rate_limit_checks_total" in text  # the limiter's metrics, same registry


async def test_injection_is_400_with_request_id_and_a_metric():
    app = create_app(settings())

    @app.get("/search")
    async def search(q: str) -> dict[str, str]:
        return {"q": q}

    async with app.router.lifespan_context(app), await client_for(app) as client:
        ok = await client.get("/search", params={"q": "card present"})
        refused = await client.get("/search", params={"q": "1' OR '1'='1' --"},
                                   headers={"X-Request-ID": "sqli-1"})
        text = (await client.get("/metrics")).text
    assert ok.status_code == 200
    assert refused.status_code == 400
    assert refused.headers["x-request-id"] == "sqli-1"
    assert refused.json()["reason"] == "sql_injection"
    # refused before routing, still labelled with the route it was meant for
    assert ('http_requests_total{app="fraud",method="GET",route="/search",status="400",'
            'version="v3"} 1.0') in text
    assert "floodgate_suspicious_inputs_total" in text


async def test_redis_limiter_costs_one_round_trip_per_request(redis_server):
    """Counted on the server with MONITOR: top-level commands from clients (the commands a
    Lua script runs are tagged `lua` there and are not round trips)."""
    app = create_app(settings(redis_url=redis_server.url, rate_limit_requests=1000,
                              redis_timeout_seconds=2.0))  # no fail-open on a busy machine

    @app.get("/score/{txn}")
    async def score(txn: int) -> dict[str, int]:
        return {"txn": txn}

    async with app.router.lifespan_context(app), await client_for(app) as client:
        await client.get("/score/0")  # first use: script load, connection set-up
        async with redis_monitor(redis_server.url) as commands:
            responses = [await client.get(f"/score/{i}") for i in range(50)]
    assert {r.status_code for r in responses} == {200}
    round_trips = [c for c in commands if c["client_type"] != "lua"]
    assert len(round_trips) == 50, [c["command"][:40] for c in round_trips[:5]]
    assert {c["command"].split()[0] for c in round_trips} == {"EVALSHA"}


@asynccontextmanager
async def redis_monitor(url: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Collect what MONITOR reports while the block runs (a PING marks the end)."""
    client = Redis.from_url(url)
    commands: list[dict[str, Any]] = []
    marker = f"end-{uuid.uuid4().hex}"
    async with client.monitor() as monitor:
        async def collect() -> None:
            async for entry in monitor.listen():
                if marker in entry["command"]:
                    return
                commands.append(entry)

        task = asyncio.create_task(collect())
        await asyncio.sleep(0.05)
        yield commands
        marker_client = Redis.from_url(url)
        await marker_client.echo(marker)
        await asyncio.wait_for(task, 10)
        await marker_client.aclose()
    await client.aclose()
