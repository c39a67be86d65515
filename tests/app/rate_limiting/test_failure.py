"""Redis down or slow: bounded, fail-open or fail-closed as configured, counted, never a 500.

The outage tests run against a redis-server of their own that they SIGKILL (`stop`) or SIGSTOP
(`pause`), through both the direct and the coalescing Redis store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from app.config import RedisFailureMode
from app.monitoring.health import ComponentDegraded
from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.failure import BackendUnavailableError, FailurePolicy, classify
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.metrics import PrometheusObserver
from app.rate_limiting.middleware import RateLimitMiddleware
from app.rate_limiting.protocol import BucketStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_config import RedisConfig
from app.redis_client import RedisClient
from tests.support.asgi import call_asgi, http_scope
from tests.support.redis_server import RedisServer


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def ok_app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(params=["direct", "coalescing"])
async def outage_client(
    request: pytest.FixtureRequest, outage_redis: RedisServer
) -> AsyncIterator[tuple[RedisClient, str]]:
    client = RedisConfig(outage_redis.url, timeout_seconds=1.0).build()
    yield client, request.param
    await client.aclose()


def redis_store(client: RedisClient, mode: str) -> BucketStore:
    if mode == "direct":
        return RedisBucketStore(client, deadline_seconds=1.0)
    return CoalescingBucketStore(RedisBucketStore(client, deadline_seconds=0.5))


def build_limiter(
    store: BucketStore, mode: RedisFailureMode, registry: CollectorRegistry, clock: FakeMonotonic
) -> TokenBucketRateLimiter:
    # 1 s: outages still fail fast (refused connections at once, a frozen Redis after 1 s), and
    # a loaded CI machine does not turn the recovery checks into timeouts.
    policy = FailurePolicy(
        mode, timeout_seconds=1.0, breaker_threshold=3, breaker_cooldown_seconds=5, clock=clock
    )
    return TokenBucketRateLimiter(
        store, limit=3, window_seconds=3600, failure=policy, observer=PrometheusObserver(registry)
    )


async def recovered(limiter: TokenBucketRateLimiter, clock: FakeMonotonic, key: str) -> None:
    """Wait out the breaker until a check of `key` reaches the backend again (a few tries)."""
    for _ in range(10):
        clock.now += 5
        if not (await limiter.check(key)).degraded:
            return
    raise AssertionError("the limiter did not recover after the backend came back")


def errors(registry: CollectorRegistry, kind: str) -> float:
    value = registry.get_sample_value(
        "floodgate_rate_limit_backend_errors_total", {"backend": "redis", "kind": kind}
    )
    return value or 0.0


async def test_stopped_redis_fails_open_counted_and_reported(
    outage_redis: RedisServer, outage_client: tuple[RedisClient, str]
) -> None:
    client, mode = outage_client
    registry, clock = CollectorRegistry(), FakeMonotonic()
    limiter = build_limiter(redis_store(client, mode), RedisFailureMode.OPEN, registry, clock)
    await limiter.start()
    assert (await limiter.check("k")).allowed
    outage_redis.stop()

    app = RateLimitMiddleware(ok_app, limiter, key_func=lambda scope: "k")
    responses = [await call_asgi(app, http_scope()) for _ in range(5)]
    assert [r.status for r in responses] == [200] * 5
    assert all(r.header("x-ratelimit-limit") == "3" for r in responses)
    assert errors(registry, "connection") == 3  # then the breaker opened
    assert errors(registry, "circuit_open") == 2
    assert registry.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "failed_open"}
    ) == 5
    health = await limiter.health()
    assert health["status"] == "degraded"
    assert "fail-open" in health["detail"]
    assert health["consecutive_failures"] == 3

    outage_redis.start()  # same port, empty script cache: NOSCRIPT fallback reloads it
    await recovered(limiter, clock, "probe")
    decision = await limiter.check("k")
    assert not decision.degraded
    assert decision.allowed
    assert decision.remaining == 2
    assert (await limiter.health())["status"] == "healthy"
    await limiter.aclose()


async def test_stopped_redis_fails_closed_with_503(
    outage_redis: RedisServer, outage_client: tuple[RedisClient, str]
) -> None:
    client, mode = outage_client
    registry, clock = CollectorRegistry(), FakeMonotonic()
    limiter = build_limiter(redis_store(client, mode), RedisFailureMode.CLOSED, registry, clock)
    outage_redis.stop()
    app = RateLimitMiddleware(ok_app, limiter, key_func=lambda scope: "k")
    response = await call_asgi(app, http_scope())
    assert response.status == 503
    assert response.header("retry-after") == "5"
    assert b"rate_limiter_unavailable" in response.body
    assert (await limiter.health())["status"] == "unhealthy"
    assert registry.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "failed_closed"}
    ) == 1


async def test_a_paused_redis_costs_at_most_the_timeout_and_is_counted(
    outage_redis: RedisServer, outage_client: tuple[RedisClient, str]
) -> None:
    client, mode = outage_client
    registry, clock = CollectorRegistry(), FakeMonotonic()
    limiter = build_limiter(redis_store(client, mode), RedisFailureMode.OPEN, registry, clock)
    await limiter.start()
    outage_redis.pause()
    try:
        decisions = await asyncio.gather(*(limiter.check(f"k{i}") for i in range(8)))
        assert all(d.allowed and d.degraded for d in decisions)
        assert errors(registry, "timeout") >= 1
        assert (await limiter.health())["status"] == "degraded"
    finally:
        outage_redis.resume()
    await recovered(limiter, clock, "k0")
    await limiter.aclose()


async def test_checks_against_a_paused_redis_never_block_the_event_loop(
    outage_redis: RedisServer, outage_client: tuple[RedisClient, str]
) -> None:
    client, mode = outage_client
    policy = FailurePolicy(timeout_seconds=5.0)  # the checks stay pending through the ticks
    limiter = TokenBucketRateLimiter(redis_store(client, mode), failure=policy)
    await limiter.start()
    outage_redis.pause()
    try:
        checks = [asyncio.create_task(limiter.check(f"k{i}")) for i in range(32)]
        ticks = 0
        while ticks < 200:  # a ticker task's worth of loop iterations
            await asyncio.sleep(0)
            ticks += 1
        # The loop served 200 ticks while every check waited on the frozen Redis: nothing blocked.
        assert not any(check.done() for check in checks)
    finally:
        outage_redis.resume()
    decisions = await asyncio.gather(*checks)
    assert all(not d.degraded for d in decisions)
    await limiter.aclose()


def test_breaker_opens_after_the_threshold_and_closes_after_success() -> None:
    clock = FakeMonotonic()
    policy = FailurePolicy(breaker_threshold=2, breaker_cooldown_seconds=1.0, clock=clock)
    policy.record_failure(TimeoutError())
    assert not policy.circuit_open()
    policy.record_failure(ConnectionError("refused"))
    assert policy.circuit_open()
    clock.now += 1.0
    assert not policy.circuit_open()  # cooldown over: calls try the backend again
    policy.record_success()
    assert policy.state.consecutive_failures == 0
    assert policy.state.failures_total == 2


def test_fallback_decisions_follow_the_mode() -> None:
    open_ = FailurePolicy(RedisFailureMode.OPEN).fallback(100, now=1000.0)
    assert (open_.allowed, open_.degraded, open_.limit) == (True, True, 100)
    closed = FailurePolicy(RedisFailureMode.CLOSED, breaker_cooldown_seconds=2.5).fallback(
        100, now=1000.0
    )
    assert (closed.allowed, closed.retry_after, closed.reset_at) == (False, 3, 1003.0)


@pytest.mark.parametrize(
    ("error", "kind"),
    [(TimeoutError(), "timeout"), (ConnectionRefusedError(), "connection"),
     (BackendUnavailableError("circuit_open", "x"), "circuit_open"), (KeyError("x"), "unexpected")],
)
def test_failures_are_classified_into_few_kinds(error: BaseException, kind: str) -> None:
    assert classify(error) == kind


def test_policy_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="timeout"):
        FailurePolicy(timeout_seconds=0)
    with pytest.raises(ValueError, match="breaker_threshold"):
        FailurePolicy(breaker_threshold=0)


class HangingStore:
    """A remote store (behind our protocol) whose `take` never answers, like a wedged backend.

    Not a `MemoryBucketStore` subclass: that store answers in process through `take_now`, which
    the limiter calls instead of `take` (no I/O, nothing to time out)."""

    name = "hanging"

    async def take(self, requests):
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def grant_extra(self, key, tokens, ttl_ms):
        raise AssertionError("not used here")

    async def extra(self, key):
        raise AssertionError("not used here")

    async def revoke_extra(self, key):
        raise AssertionError("not used here")

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("coalescing", [False, True], ids=["limiter-timer", "store-deadline"])
async def test_a_hanging_store_is_cut_off_by_whichever_deadline_applies(coalescing: bool) -> None:
    store: BucketStore = HangingStore()
    if coalescing:  # deadline 2 x 0.05 s <= 0.2 s: the limiter relies on the store's own deadline
        store = CoalescingBucketStore(store, timeout=0.05)
    limiter = TokenBucketRateLimiter(store, failure=FailurePolicy(timeout_seconds=0.2))
    assert limiter._store_bounded is coalescing
    decision = await limiter.check("k")
    assert decision.degraded
    assert decision.allowed
    assert limiter.failure.state.last_error.startswith("timeout")


async def test_the_health_probe_speaks_the_monitoring_contract(outage_redis: RedisServer) -> None:
    client = RedisConfig(outage_redis.url, timeout_seconds=1.0).build()
    open_ = TokenBucketRateLimiter(
        RedisBucketStore(client), failure=FailurePolicy(timeout_seconds=1)
    )
    closed = TokenBucketRateLimiter(
        RedisBucketStore(client), failure=FailurePolicy(RedisFailureMode.CLOSED, timeout_seconds=1)
    )
    await open_.probe()  # healthy: returns
    outage_redis.stop()
    with pytest.raises(ComponentDegraded, match="fail-open"):
        await open_.probe()
    with pytest.raises(BackendUnavailableError, match="fail-closed"):
        await closed.probe()
    await client.aclose()
