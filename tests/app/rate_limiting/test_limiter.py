"""The contract suite: `TokenBucketRateLimiter` behaves the same on every bucket store.

Parametrized (conftest `store`) over memory, Redis (direct EVALSHA) and Redis behind the
coalescing batcher, so the coalescing path is held to the same exactness as the others.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.failure import FailurePolicy
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.metrics import PrometheusObserver
from app.rate_limiting.protocol import BucketStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.throttling import DynamicThrottling

LONG_WINDOW = 24 * 3600.0  # refill is negligible during a test: counts are exact


def patient_limiter(store: BucketStore, **kwargs: Any) -> TokenBucketRateLimiter:
    """A limiter whose backend deadline (5 s) a loaded CI machine never hits: results are exact.

    (The production default is 50 ms; past it a check fails open, which the failure tests cover.)
    """
    return TokenBucketRateLimiter(store, failure=FailurePolicy(timeout_seconds=5.0), **kwargs)



async def bucket_ttl_ms(store: BucketStore, key: str) -> float | None:
    """Milliseconds until the bucket of `key` expires, from whichever store holds it."""
    inner = store.inner if isinstance(store, CoalescingBucketStore) else store
    if isinstance(inner, MemoryBucketStore):
        return inner.ttl_ms(key)
    assert isinstance(inner, RedisBucketStore)
    ttl = await inner.client.pttl(inner.bucket_key(key))
    return None if ttl == -2 else float(ttl)


async def test_admits_the_limit_then_refuses_with_retry_after(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=5, window_seconds=LONG_WINDOW)
    decisions = [await limiter.check("ip:192.0.2.1") for _ in range(7)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0]
    assert all(d.limit == 5 for d in decisions)
    refused = decisions[-1]
    per_token = LONG_WINDOW / 5
    assert per_token * 0.99 < refused.retry_after <= per_token
    assert refused.reset_at > time.time() + 4 * per_token  # full again after ~5 tokens' refill
    assert not refused.degraded


async def test_clients_have_separate_buckets(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=2, window_seconds=LONG_WINDOW)
    for _ in range(2):
        assert (await limiter.check("ip:192.0.2.1")).allowed
    assert not (await limiter.check("ip:192.0.2.1")).allowed
    assert (await limiter.check("ip:192.0.2.2")).allowed


async def test_cost_takes_several_tokens(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=10, window_seconds=LONG_WINDOW)
    assert (await limiter.check("k", cost=7)).remaining == 3
    refused = await limiter.check("k", cost=4)
    assert not refused.allowed
    assert refused.remaining == 3
    assert (await limiter.check("k", cost=3)).remaining == 0


async def test_bucket_refills_to_capacity_but_not_beyond(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=2, window_seconds=0.3)
    await limiter.check("k")
    await limiter.check("k")
    await asyncio.sleep(0.45)  # more than a whole window: the bucket is full, and capped there
    decision = await limiter.check("k")
    assert decision.allowed
    assert decision.remaining == 1


async def test_thirty_two_concurrent_clients_on_one_key_admit_exactly_the_limit(
    store: BucketStore,
) -> None:
    limiter = patient_limiter(store, limit=100, window_seconds=LONG_WINDOW)

    async def client() -> int:
        admitted = 0
        for _ in range(20):
            decision = await limiter.check("hot-key")
            assert not decision.degraded
            admitted += decision.allowed
        return admitted

    results = await asyncio.gather(*(client() for _ in range(32)))
    assert sum(results) == 100
    if isinstance(store, CoalescingBucketStore):  # the batcher really batched
        assert store.batches_sent < 640


async def test_every_bucket_written_has_an_expiry_no_longer_than_a_window(
    store: BucketStore,
) -> None:
    limiter = patient_limiter(store, limit=10, window_seconds=60)
    for index in range(5):
        await limiter.check(f"client-{index}", cost=index + 1)
    for index in range(5):
        ttl = await bucket_ttl_ms(store, f"client-{index}")
        assert ttl is not None
        assert 0 < ttl <= 60_000 * (index + 1) / 10 + 2  # time until the bucket is full again


class Overloaded:
    """A load signal stuck above capacity: throttling drops to its floor at the first sample."""

    def load(self) -> float:
        return 2.0


def throttled_to_a_fifth() -> DynamicThrottling:
    return DynamicThrottling(Overloaded(), decrease=0.2, min_factor=0.2, interval_seconds=3600)


async def test_lower_capacity_clamps_the_tokens_held(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=10, window_seconds=LONG_WINDOW)
    assert (await limiter.check("k")).remaining == 9
    limiter.throttling = throttled_to_a_fifth()
    first = await limiter.check("k")
    assert (first.limit, first.remaining) == (2, 1)
    assert (await limiter.check("k")).allowed
    assert not (await limiter.check("k")).allowed


async def test_burst_tokens_are_spent_after_the_bucket_and_counted(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=2, window_seconds=LONG_WINDOW)
    grant = await store.grant_extra("k", 3, 60_000)
    assert grant.tokens == 3
    decisions = [await limiter.check("k") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert (await store.extra("k")).tokens == 0


async def test_a_cost_above_the_capacity_is_refused_for_a_window(store: BucketStore) -> None:
    limiter = patient_limiter(
        store, limit=10, window_seconds=60, throttling=throttled_to_a_fifth()
    )
    decision = await limiter.check("k", cost=5)
    assert not decision.allowed
    assert decision.retry_after == pytest.approx(60.0)


async def test_bad_arguments_are_refused_before_touching_the_store(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=3, window_seconds=60)
    with pytest.raises(ValueError, match="key"):
        await limiter.check("")
    with pytest.raises(ValueError, match="key"):
        await limiter.check("x" * 300)
    with pytest.raises(ValueError, match="cost"):
        await limiter.check("k", cost=0)
    with pytest.raises(ValueError, match="cost"):
        await limiter.check("k", cost=4)
    assert (await limiter.check("k")).remaining == 2  # nothing was charged


async def test_health_of_a_working_store_is_healthy(store: BucketStore) -> None:
    health = await patient_limiter(store).health()
    assert health["status"] == "healthy"
    assert health["backend"] == store.name
    assert health["latency_ms"] is not None
    assert health["consecutive_failures"] == 0


async def test_decisions_are_counted_on_the_given_registry_only() -> None:
    registry = CollectorRegistry()
    limiter = TokenBucketRateLimiter(
        MemoryBucketStore(), limit=1, window_seconds=60, observer=PrometheusObserver(registry)
    )
    await limiter.check("k")
    await limiter.check("k")
    assert registry.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "allowed"}
    ) == 1
    assert registry.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "refused"}
    ) == 1
    assert REGISTRY.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "allowed"}
    ) is None


def test_limit_and_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit"):
        TokenBucketRateLimiter(MemoryBucketStore(), limit=0)
    with pytest.raises(ValueError, match="window"):
        TokenBucketRateLimiter(MemoryBucketStore(), window_seconds=0)


class CountingTimeouts(FailurePolicy):
    """The real policy, counting the timers it arms."""

    def __init__(self) -> None:
        super().__init__(timeout_seconds=5.0)
        self.armed = 0

    def timeout(self) -> asyncio.Timeout:
        self.armed += 1
        return super().timeout()


async def test_only_stores_that_do_io_are_bounded_by_a_timer(store: BucketStore) -> None:
    """The in-memory store answers synchronously (`take_now`): a timer around it would cost more
    than the check. Every store that does I/O is still bounded by one (or by its own deadline)."""
    failure = CountingTimeouts()
    limiter = TokenBucketRateLimiter(store, failure=failure, limit=10, window_seconds=60)
    decisions = [await limiter.check("ip:192.0.2.9") for _ in range(3)]

    assert [d.remaining for d in decisions] == [9, 8, 7]
    if isinstance(store, MemoryBucketStore):
        assert failure.armed == 0
        return
    own_deadline: float | None = getattr(store, "deadline_seconds", None)
    if own_deadline is not None and own_deadline <= failure.timeout_seconds:
        assert failure.armed == 0  # the store answers or fails within its own deadline
    else:
        assert failure.armed == 3


async def test_check_now_decides_as_check_does_for_the_in_memory_store() -> None:
    clock = [1_000.0]
    by_check = TokenBucketRateLimiter(MemoryBucketStore(lambda: clock[0]), limit=3,
                                      window_seconds=60)
    by_now = TokenBucketRateLimiter(MemoryBucketStore(lambda: clock[0]), limit=3,
                                    window_seconds=60)
    assert by_now.answers_in_process
    awaited = [await by_check.check("k") for _ in range(5)]
    direct = [by_now.check_now("k") for _ in range(5)]
    assert awaited == direct
    assert [d.allowed for d in direct] == [True, True, True, False, False]
    assert direct[3].retry_after == 20.0  # one token per 20 s
    with pytest.raises(ValueError, match="key must be"):
        by_now.check_now("")
    with pytest.raises(ValueError, match="cost must be"):
        by_now.check_now("k", cost=4)


async def test_check_now_refuses_a_store_that_needs_io(redis_server: Any) -> None:
    from app.config import Settings
    from app.rate_limiting.redis_config import RedisConfig

    client = RedisConfig.from_settings(Settings(redis_url=redis_server.url)).build()
    limiter = TokenBucketRateLimiter(RedisBucketStore(client, owns_client=True), limit=3)
    assert not limiter.answers_in_process
    with pytest.raises(RuntimeError, match="await check"):
        limiter.check_now("k")
    assert (await limiter.check("k")).allowed  # the awaited path still answers
    await limiter.aclose()
