"""Rate limiting for Floodgate's runtime: token buckets, quotas, throttling, burst grants.

Wiring it into `app/main.py` (`create_app(settings)`)::

    from app.rate_limiting import RateLimitMiddleware, build_key_func, build_rate_limiter

    # install_middleware(): add it after PrometheusMiddleware, so 429s are counted as requests
    limiter = build_rate_limiter(settings, registry=collector.registry)  # or observer=...
    app.state.rate_limiter = limiter
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=limiter,
            key_func=build_key_func(settings),        # API key (hashed) or client IP
            in_flight=limiter.in_flight,              # feeds dynamic throttling (may be None)
            exempt_paths={"/health", "/metrics"},     # no check, no X-RateLimit-* headers
        )
    # Redis: pass `redis=app.state.redis` so the limiter talks to the same server (URL, db, AUTH,
    # TLS); it keeps one connection of its own beside that pool for its checks (see below).
    # lifespan:  await limiter.start()  ...  await limiter.aclose()
    # health:    ComponentCheck("rate_limiter", limiter.probe, critical=False)

Interfaces other parts rely on:

* ``RateLimiter`` protocol (`protocol.py`): ``limit``, ``async check(key, cost=1) ->
  RateLimitDecision(allowed, limit, remaining, reset_at, retry_after, degraded)`` — never raises
  for backend failures — plus ``health()``, ``start()``, ``aclose()``.
* ``limiter.probe`` follows `app.monitoring.health.Probe`: returns when healthy, raises
  `ComponentDegraded` while failing open, `BackendUnavailableError` while failing closed.
* ``async limiter.health() -> ComponentHealth``: the detail behind it, a dict with ``name``
  ("rate_limiter"), ``status`` ("healthy" | "degraded" | "unhealthy"), ``detail``, ``backend``
  ("memory" | "redis"), ``failure_mode`` ("open" | "closed"), ``latency_ms`` (ping; None on
  failure), ``consecutive_failures``, ``failures_total``. Redis down: "degraded" when fail-open
  (requests pass unchecked), "unhealthy" when fail-closed (requests get 503).
* Metrics: ``build_rate_limiter(settings, registry=CollectorRegistry)`` defines, on that registry
  only, ``floodgate_rate_limit_checks_total{outcome}`` (allowed | refused | failed_open |
  failed_closed), ``floodgate_rate_limit_backend_errors_total{backend,kind}``,
  ``floodgate_rate_limit_throttle_factor`` and ``floodgate_quota_checks_total{feature,outcome}``.
  Or pass ``observer=`` (any object with the `RateLimitObserver` methods) to route the events into
  your own `MetricsCollector`. Reuse ``limiter.observer`` for the quota manager.
* Redis: ``RedisConfig.from_settings(settings, max_connections=N).build()`` returns a
  ``redis.asyncio.Redis`` on a bounded blocking pool; pass it as ``redis=``. Checks and health
  pings do not use that pool: each limiter opens ONE long-lived connection of its own
  (`redis_connection.PipelinedConnection`, built from the client's URL options) and pipelines
  every check on it; burst grants use the pool. Budget one connection per app process beyond
  the pool. A client option that connection cannot honour (e.g. a credential provider) raises
  `UnsupportedRedisOptionError` when the limiter is built.
* Quotas: ``build_quota_manager(settings, [Quota("deploys", {QuotaPeriod.DAILY: 10})],
  redis=client, observer=limiter.observer)``; ``await manager.consume(team, "deploys")`` returns a
  `QuotaDecision` (map a refusal to 429 with ``decision.resets_at``).
* Burst grants: ``build_burst_allowance(settings, limiter).grant(client_key, tokens, ttl_seconds)``
  where ``client_key`` is what the key function returns (``hash_api_key(raw)`` or ``"ip:<addr>"``).

Behaviour in one paragraph: a client's bucket holds RATE_LIMIT_REQUESTS tokens and refills them
per RATE_LIMIT_WINDOW_SECONDS (continuous refill, no window edge). Redis does each check in one
atomic Lua call using Redis time, on the limiter's own pipelined connection; concurrent checks are
coalesced into one call (one round trip, one script run for the batch). When Redis is down
or slower than REDIS_TIMEOUT_SECONDS the request is admitted (REDIS_FAILURE_MODE=open, default) or
refused with 503 (closed); failures are counted and a breaker skips Redis for a cooldown. While
this instance is loaded above 80 % (in-flight requests vs capacity, event-loop lag vs budget) the
granted limit shrinks and then recovers step by step.
"""

from app.rate_limiting.burst import BurstAllowance, BurstGrant
from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.factory import (
    build_bucket_store,
    build_burst_allowance,
    build_failure_policy,
    build_key_func,
    build_quota_manager,
    build_rate_limiter,
)
from app.rate_limiting.failure import BackendUnavailableError, FailurePolicy
from app.rate_limiting.keys import ClientIdentity, hash_api_key
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.metrics import NullObserver, PrometheusObserver, RateLimitObserver
from app.rate_limiting.middleware import RateLimitMiddleware
from app.rate_limiting.protocol import (
    BucketStore,
    ComponentHealth,
    RateLimitDecision,
    RateLimiter,
)
from app.rate_limiting.quota import (
    Quota,
    QuotaDecision,
    QuotaManager,
    QuotaPeriod,
    UnknownFeatureError,
)
from app.rate_limiting.quota_store import MemoryQuotaStore, RedisQuotaStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_config import RedisConfig, RedisNotConfiguredError
from app.rate_limiting.redis_connection import PipelinedConnection
from app.rate_limiting.redis_endpoint import RedisEndpoint, UnsupportedRedisOptionError
from app.rate_limiting.throttling import (
    DynamicThrottling,
    EventLoopLag,
    HighestLoad,
    InFlightRequests,
    LoadSignal,
)

__all__ = [
    "BackendUnavailableError",
    "BucketStore",
    "BurstAllowance",
    "BurstGrant",
    "ClientIdentity",
    "CoalescingBucketStore",
    "ComponentHealth",
    "DynamicThrottling",
    "EventLoopLag",
    "FailurePolicy",
    "HighestLoad",
    "InFlightRequests",
    "LoadSignal",
    "MemoryBucketStore",
    "MemoryQuotaStore",
    "NullObserver",
    "PipelinedConnection",
    "PrometheusObserver",
    "Quota",
    "QuotaDecision",
    "QuotaManager",
    "QuotaPeriod",
    "RateLimitDecision",
    "RateLimitMiddleware",
    "RateLimitObserver",
    "RateLimiter",
    "RedisBucketStore",
    "RedisConfig",
    "RedisEndpoint",
    "RedisNotConfiguredError",
    "RedisQuotaStore",
    "TokenBucketRateLimiter",
    "UnknownFeatureError",
    "UnsupportedRedisOptionError",
    "build_bucket_store",
    "build_burst_allowance",
    "build_failure_policy",
    "build_key_func",
    "build_quota_manager",
    "build_rate_limiter",
    "hash_api_key",
]
