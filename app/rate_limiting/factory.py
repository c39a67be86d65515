"""Build the rate-limiting parts from `Settings` (what `create_app(settings)` calls).

Explicit choices, no silent fallback: REDIS_URL set -> the Redis store (coalescing unless
RATE_LIMIT_COALESCE=false); unset -> the in-memory store. Nothing is created at import time.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from app.config import Settings
from app.rate_limiting.burst import BurstAllowance
from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.failure import FailurePolicy
from app.rate_limiting.keys import ClientIdentity
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.metrics import NullObserver, PrometheusObserver, RateLimitObserver
from app.rate_limiting.protocol import BucketStore
from app.rate_limiting.quota import Quota, QuotaManager
from app.rate_limiting.quota_store import MemoryQuotaStore, QuotaStore, RedisQuotaStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_config import RedisConfig
from app.rate_limiting.throttling import (
    DynamicThrottling,
    EventLoopLag,
    HighestLoad,
    InFlightRequests,
)
from app.redis_client import RedisClient


def build_failure_policy(settings: Settings) -> FailurePolicy:
    return FailurePolicy(
        settings.redis_failure_mode,
        timeout_seconds=settings.redis_timeout_seconds,
        breaker_threshold=settings.redis_breaker_threshold,
        breaker_cooldown_seconds=settings.redis_breaker_cooldown_seconds,
    )


def build_observer(
    registry: CollectorRegistry | None, observer: RateLimitObserver | None
) -> RateLimitObserver:
    """An explicit observer wins; else Prometheus on `registry`; else no metrics."""
    if observer is not None:
        return observer
    return PrometheusObserver(registry) if registry is not None else NullObserver()


def build_bucket_store(
    settings: Settings, *, redis: RedisClient | None = None, max_connections: int = 32
) -> BucketStore:
    """The store REDIS_URL asks for. A passed `redis` client is shared and not closed by us."""
    if redis is None and settings.redis_url is None:
        return MemoryBucketStore()
    owns = redis is None
    client = redis or RedisConfig.from_settings(settings, max_connections=max_connections).build()
    prefix = settings.rate_limit_key_prefix
    timeout = settings.redis_timeout_seconds
    if not settings.rate_limit_coalesce:
        return RedisBucketStore(client, prefix=prefix, deadline_seconds=timeout, owns_client=owns)
    # Half the timeout per batch: a check waits for the batch in flight plus its own, so its
    # whole wait stays within REDIS_TIMEOUT_SECONDS.
    inner = RedisBucketStore(client, prefix=prefix, deadline_seconds=timeout / 2, owns_client=owns)
    return CoalescingBucketStore(inner)


def build_rate_limiter(
    settings: Settings,
    *,
    registry: CollectorRegistry | None = None,
    observer: RateLimitObserver | None = None,
    redis: RedisClient | None = None,
    max_connections: int = 32,
) -> TokenBucketRateLimiter:
    """The limiter for `settings`; call `await limiter.start()` / `aclose()` in the lifespan.

    Metrics: pass the project's `registry` (a `PrometheusObserver` is created on it once; reuse
    `limiter.observer` elsewhere) or your own `observer`. Neither: no metrics.
    """
    observer = build_observer(registry, observer)
    throttling = in_flight = loop_lag = None
    if settings.rate_limit_throttling_enabled:
        in_flight = InFlightRequests(settings.rate_limit_throttle_capacity)
        loop_lag = EventLoopLag(settings.rate_limit_throttle_lag_budget_seconds)
        throttling = DynamicThrottling(
            HighestLoad([in_flight, loop_lag]),
            threshold=settings.rate_limit_throttle_threshold,
            min_factor=settings.rate_limit_throttle_min_factor,
            observer=observer,
        )
    return TokenBucketRateLimiter(
        build_bucket_store(settings, redis=redis, max_connections=max_connections),
        limit=settings.rate_limit_requests,
        window_seconds=settings.rate_limit_window_seconds,
        failure=build_failure_policy(settings),
        throttling=throttling,
        observer=observer,
        in_flight=in_flight,
        loop_lag=loop_lag,
    )


def build_key_func(settings: Settings) -> ClientIdentity:
    return ClientIdentity(
        trusted_proxies=settings.trusted_proxies,
        api_key_header=settings.rate_limit_api_key_header,
        ipv6_prefix_length=settings.rate_limit_ipv6_prefix_length,
    )


def build_burst_allowance(settings: Settings, limiter: TokenBucketRateLimiter) -> BurstAllowance:
    """Burst grants on the limiter's own store (so its checks see them)."""
    return BurstAllowance(limiter.store, failure=build_failure_policy(settings))


def build_quota_manager(
    settings: Settings,
    quotas: Iterable[Quota],
    *,
    redis: RedisClient | None = None,
    observer: RateLimitObserver | None = None,
) -> QuotaManager:
    """Quotas on Redis when REDIS_URL is set (pass the app's shared client), else in memory.

    Pass `observer=limiter.observer` to count quota decisions on the same metrics (creating a
    second `PrometheusObserver` on one registry would register the metrics twice).
    Call `await manager.start()` / `aclose()` in the lifespan.
    """
    store: QuotaStore
    if redis is not None:
        store = RedisQuotaStore(redis)
    elif settings.redis_url is not None:
        store = RedisQuotaStore(RedisConfig.from_settings(settings).build(), owns_client=True)
    else:
        store = MemoryQuotaStore()
    return QuotaManager(
        store, quotas, failure=build_failure_policy(settings), observer=observer or NullObserver()
    )
