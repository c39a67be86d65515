"""`create_app(settings)`: the runtime as a FastAPI app, served with
`uvicorn app.main:create_app --factory`.

Per-request work, in this order (one `RuntimeMiddleware` layer runs the four steps; the
standalone middlewares named here do the same one layer each):
1. correlation id (`CorrelationIdMiddleware`) — first, so every later log line and every answer,
   including a 429 or a 400 from the steps below, carries the request id.
2. metrics (`PrometheusMiddleware`) — before rate limiting and validation, so refused requests
   are counted too (as 4xx: the canary analysis counts only 5xx as errors).
3. rate limit (`RateLimitMiddleware`) — refuses over-limit clients before any body is read.
4. validation (`ValidationMiddleware`) — size limits and injection screening, innermost.
Everything per app lives on `app.state`; clients are opened and closed in `lifespan`.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from redis.asyncio import ConnectionPool

from app.api.errors import unhandled_exception_handler
from app.api.routes import health, metrics
from app.config import Settings
from app.monitoring.correlation import CorrelationIdMiddleware
from app.monitoring.health import HealthCheckCollector
from app.monitoring.logging import configure_logging
from app.monitoring.metrics import MetricsCollector
from app.monitoring.middleware import PrometheusMiddleware
from app.monitoring.probes import build_checks, critical_components
from app.rate_limiting import RateLimitMiddleware, build_key_func, build_rate_limiter
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.redis_config import RedisConfig
from app.redis_client import RedisClient
from app.runtime_middleware import RuntimeMiddleware
from app.scaling.pools import ConnectionPoolConfig
from app.scaling.sessions import RedisSessionStore
from app.validation import ValidationMiddleware
from app.validation.fastapi_errors import install_validation_error_handler

logger = logging.getLogger(__name__)
UNLIMITED_PATHS = frozenset({"/health", "/health/detailed", "/metrics"})
NOT_VALIDATED_PREFIXES = ("/health", "/metrics")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build one app; with no argument, settings come from the environment."""
    settings = settings if settings is not None else Settings()
    if settings.configure_logging:
        configure_logging(settings.log_level)
    app = FastAPI(title=settings.app_name, version=settings.app_version, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = collector = MetricsCollector(settings.app_name, settings.app_version)
    app.state.pool_config = pools = ConnectionPoolConfig.from_settings(settings)
    # The Redis client is only a description until first use (redis-py connects lazily); the
    # lifespan disconnects its pool on the way out.
    app.state.redis = (
        RedisConfig.from_settings(settings, max_connections=pools.max_connections).build()
        if settings.redis_url is not None
        else None
    )
    app.state.rate_limiter = (
        build_rate_limiter(settings, registry=collector.registry, redis=app.state.redis,
                           max_connections=pools.max_connections)
        if settings.rate_limit_enabled
        else None
    )
    app.add_exception_handler(Exception, unhandled_exception_handler)
    install_validation_error_handler(app)
    app.include_router(health.router)
    if settings.prometheus_metrics_enabled:
        app.include_router(metrics.router)
    install_middleware(app, settings, collector, app.state.rate_limiter)
    return app


def install_middleware(
    app: FastAPI,
    settings: Settings,
    collector: MetricsCollector,
    limiter: TokenBucketRateLimiter | None = None,
) -> None:
    """Add the runtime's middleware to `app` (public for benchmarks and embedders): one
    `RuntimeMiddleware` doing what the four middlewares would, stacked in the order above.

    Probes and scrapes (`/health*`, `/metrics`) are neither rate limited nor screened: a load
    balancer or Prometheus must never be refused, and they carry no user input. Paths in
    VALIDATION_UNSCREENED_PATHS keep the body-size limit but skip injection screening.
    """
    app.add_middleware(
        RuntimeMiddleware,
        settings=settings,
        collector=collector,
        routes=app.router.routes,
        limiter=limiter,
        key_func=build_key_func(settings) if limiter is not None else None,
        in_flight=limiter.in_flight if limiter is not None else None,
        unlimited_paths=UNLIMITED_PATHS,
        unvalidated_prefixes=NOT_VALIDATED_PREFIXES,
    )


def install_separate_middleware(
    app: FastAPI,
    settings: Settings,
    collector: MetricsCollector,
    limiter: TokenBucketRateLimiter | None = None,
) -> None:
    """The same work as `install_middleware`, as the four standalone middlewares stacked (one
    ASGI layer each): for embedders who want only some of them, and as the reference the one
    layer is tested and benchmarked against."""
    # `add_middleware` wraps what was added before: add innermost first.
    app.add_middleware(ValidationMiddleware, settings=settings, registry=collector.registry,
                       exempt_paths=NOT_VALIDATED_PREFIXES)
    if limiter is not None:
        app.add_middleware(RateLimitMiddleware, limiter=limiter, key_func=build_key_func(settings),
                           in_flight=limiter.in_flight, exempt_paths=UNLIMITED_PATHS)
    if settings.prometheus_metrics_enabled:
        app.add_middleware(PrometheusMiddleware, collector=collector, routes=app.router.routes)
    app.add_middleware(CorrelationIdMiddleware)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the app's clients, sized by its `ConnectionPoolConfig`, and close them on exit."""
    settings: Settings = app.state.settings
    pools: ConnectionPoolConfig = app.state.pool_config
    async with AsyncExitStack() as stack:
        app.state.http = await stack.enter_async_context(
            httpx.AsyncClient(
                limits=pools.httpx_limits(), timeout=settings.health_check_timeout_seconds
            )
        )
        app.state.session_store = None
        redis: RedisClient | None = app.state.redis
        if redis is not None:
            # The client does not own a pool passed to it: disconnecting the pool is the close.
            stack.push_async_callback(redis.connection_pool.disconnect)
            app.state.session_store = RedisSessionStore(redis, settings.session_ttl_seconds)
            app.state.metrics.watch_pool(
                "redis", lambda: redis_pool_in_use(redis.connection_pool), pools.max_connections
            )
        limiter: TokenBucketRateLimiter | None = app.state.rate_limiter
        if limiter is not None:
            await limiter.start()  # a Redis that is down here is not fatal (failure policy)
            stack.push_async_callback(limiter.aclose)
        kubernetes_http = None
        if settings.kubernetes_api_url and (
            settings.kubernetes_api_ca_file or settings.kubernetes_api_token
        ):
            kubernetes_http = await stack.enter_async_context(_kubernetes_client(settings))
        app.state.health = HealthCheckCollector(
            build_checks(
                critical=critical_components(settings),
                redis=redis,
                rate_limiter=limiter.probe if limiter is not None else None,
                http=app.state.http,
                prometheus_url=settings.prometheus_url,
                prefect_api_url=settings.prefect_api_url,
                kubernetes_api_url=settings.kubernetes_api_url,
                kubernetes_http=kubernetes_http,
            ),
            settings.health_check_timeout_seconds,
        )
        logger.info(
            "%s %s started (pools: %d + %d overflow)", settings.app_name, settings.app_version,
            pools.size, pools.overflow,
        )
        yield


def redis_pool_in_use(pool: ConnectionPool[Any]) -> int:
    """Connections checked out of a redis-py pool right now.

    redis-py keeps this count only in a private set; read it defensively (0 if a future
    version renames it — the pool test in tests/app/test_main.py would then fail loudly).
    """
    return len(getattr(pool, "_in_use_connections", ()))


def _kubernetes_client(settings: Settings) -> httpx.AsyncClient:
    headers = {}
    if settings.kubernetes_api_token is not None:
        headers["Authorization"] = f"Bearer {settings.kubernetes_api_token.get_secret_value()}"
    verify: ssl.SSLContext | bool = True
    if settings.kubernetes_api_ca_file:
        verify = ssl.create_default_context(cafile=settings.kubernetes_api_ca_file)
    return httpx.AsyncClient(
        headers=headers, verify=verify, timeout=settings.health_check_timeout_seconds
    )
