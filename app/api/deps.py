"""FastAPI dependencies as `Annotated` aliases: everything comes from `app.state`, set up by
`create_app` and its lifespan, so routes never reach for module globals."""

from __future__ import annotations

from typing import Annotated

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


def get_health(request: Request) -> HealthCheckCollector:
    health: HealthCheckCollector = request.app.state.health
    return health


def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


def get_redis(request: Request) -> RedisClient | None:
    redis: RedisClient | None = request.app.state.redis
    return redis


def get_session_store(request: Request) -> RedisSessionStore:
    store: RedisSessionStore | None = request.app.state.session_store
    if store is None:
        raise HTTPException(503, "sessions need Redis: set REDIS_URL")
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[MetricsCollector, Depends(get_metrics)]
HealthDep = Annotated[HealthCheckCollector, Depends(get_health)]
HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
RedisDep = Annotated[RedisClient | None, Depends(get_redis)]
SessionStoreDep = Annotated[RedisSessionStore, Depends(get_session_store)]
