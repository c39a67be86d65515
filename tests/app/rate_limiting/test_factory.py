"""The factories pick the store REDIS_URL asks for and wire throttling, metrics and keys."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.asyncio.connection import ConnectionPool
from redis.credentials import UsernamePasswordCredentialProvider

from app.config import RedisFailureMode, Settings
from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.factory import (
    build_burst_allowance,
    build_key_func,
    build_quota_manager,
    build_rate_limiter,
)
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.quota import Quota, QuotaPeriod
from app.rate_limiting.quota_store import MemoryQuotaStore, RedisQuotaStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_endpoint import UnsupportedRedisOptionError
from tests.support.asgi import http_scope
from tests.support.redis_server import RedisServer


async def test_without_redis_url_the_limiter_is_in_memory() -> None:
    limiter = build_rate_limiter(Settings(redis_url=None))
    assert isinstance(limiter.store, MemoryBucketStore)
    assert (limiter.limit, limiter.window_seconds) == (100, 60)
    assert limiter.in_flight is not None
    assert limiter.throttling is not None
    await limiter.start()
    assert (await limiter.check("k")).remaining == 99
    await limiter.aclose()


async def test_with_redis_url_checks_are_coalesced_on_redis(redis_server: RedisServer) -> None:
    settings = Settings(redis_url=redis_server.url, rate_limit_requests=7,
                        redis_failure_mode=RedisFailureMode.CLOSED, redis_timeout_seconds=2.0)
    registry = CollectorRegistry()
    limiter = build_rate_limiter(settings, registry=registry)
    assert isinstance(limiter.store, CoalescingBucketStore)
    assert isinstance(limiter.store.inner, RedisBucketStore)
    assert limiter.failure.mode is RedisFailureMode.CLOSED
    await limiter.start()
    decision = await limiter.check("factory-test")
    assert decision.limit == 7
    assert not decision.degraded
    assert registry.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "allowed"}) == 1
    burst = build_burst_allowance(settings, limiter)
    assert (await burst.grant("factory-test", 1, 5)).tokens == 1
    await limiter.aclose()


def test_coalescing_and_throttling_can_be_switched_off(redis_server: RedisServer) -> None:
    settings = Settings(redis_url=redis_server.url, rate_limit_coalesce=False,
                        rate_limit_throttling_enabled=False)
    limiter = build_rate_limiter(settings)
    assert isinstance(limiter.store, RedisBucketStore)
    assert limiter.throttling is None
    assert limiter.in_flight is None


@pytest.mark.parametrize("coalesce", [True, False])
def test_a_check_waits_at_most_the_redis_timeout_without_a_timer_of_the_limiter(
    redis_server: RedisServer, coalesce: bool
) -> None:
    settings = Settings(redis_url=redis_server.url, rate_limit_coalesce=coalesce,
                        redis_timeout_seconds=0.08)
    limiter = build_rate_limiter(settings)
    store = limiter.store
    inner = store.inner if isinstance(store, CoalescingBucketStore) else store
    assert isinstance(inner, RedisBucketStore)
    # coalescing: the batch in flight plus its own, each bounded by the connection's deadline
    assert inner.connection.reply_timeout == (0.04 if coalesce else 0.08)
    assert getattr(store, "deadline_seconds", None) == pytest.approx(0.08)
    assert limiter._store_bounded


def test_a_redis_client_the_limiter_cannot_follow_is_refused_when_built() -> None:
    provider = UsernamePasswordCredentialProvider("alice", "pw")
    client = Redis(connection_pool=ConnectionPool(host="h", credential_provider=provider))
    with pytest.raises(UnsupportedRedisOptionError, match="credential_provider"):
        build_rate_limiter(Settings(), redis=client)


def test_key_function_follows_the_settings() -> None:
    settings = Settings(trusted_proxies=["10.0.0.0/8"], rate_limit_api_key_header="X-Token")
    key_func = build_key_func(settings)
    scope = http_scope(headers=[(b"x-forwarded-for", b"198.51.100.3")], client=("10.0.0.1", 1))
    assert key_func(scope) == "ip:198.51.100.3"
    assert key_func(http_scope(headers=[(b"x-token", b"t")])).startswith("key:")


async def test_quota_manager_follows_the_settings(redis_server: RedisServer) -> None:
    quotas = [Quota("deploys", {QuotaPeriod.DAILY: 3})]
    assert isinstance(build_quota_manager(Settings(), quotas).store, MemoryQuotaStore)
    manager = build_quota_manager(
        Settings(redis_url=redis_server.url, redis_timeout_seconds=2.0), quotas
    )
    assert isinstance(manager.store, RedisQuotaStore)
    await manager.start()
    decision = await manager.consume("factory-team", "deploys")
    assert decision.allowed
    assert not decision.degraded
    await manager.aclose()
