"""FastAPI dependencies as `Annotated` aliases: everything comes from `app.state`, set up by
`create_app` and its lifespan, so routes never reach for module globals."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import Depends, HTTPException, Request

from app.config import Settings
from app.monitoring.health import HealthCheckCollector
from app.monitoring.metrics import MetricsCollector
from app.redis_client import RedisClient
from app.scaling.sessions import RedisSessionStore


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_metrics(request: Request) -> MetricsCollector:
    collector: MetricsCollector = request.app.state.metrics
    return collector


def _started(request: Request, name: str) -> Any:
    """State the lifespan creates; a 503 (not a 500) if the server runs without lifespan."""
    try:
        return getattr(request.app.state, name)
    except AttributeError:
        raise HTTPException(503, "not started: the app's lifespan has not run") from None


def get_health(request: Request) -> HealthCheckCollector:
    health: HealthCheckCollector = _started(request, "health")
    return health


def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = _started(request, "http")
    return client


def get_redis(request: Request) -> RedisClient | None:
    redis: RedisClient | None = _started(request, "redis")
    return redis


def get_session_store(request: Request) -> RedisSessionStore:
    store: RedisSessionStore | None = _started(request, "session_store")
    if store is None:
        raise HTTPException(503, "sessions need Redis: set REDIS_URL")
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[MetricsCollector, Depends(get_metrics)]
HealthDep = Annotated[HealthCheckCollector, Depends(get_health)]
HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
RedisDep = Annotated[RedisClient | None, Depends(get_redis)]
SessionStoreDep = Annotated[RedisSessionStore, Depends(get_session_store)]
