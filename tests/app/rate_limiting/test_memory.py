"""The in-memory store under a fake clock: exact refill arithmetic and bounded memory."""

from __future__ import annotations

import pytest

from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.protocol import TakeRequest


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_refill_is_continuous_and_exact() -> None:
    clock = FakeClock()
    store = MemoryBucketStore(clock)
    bucket = TakeRequest("k", capacity=10, window_ms=10_000)  # one token per second
    for _ in range(10):
        await store.take([bucket])
    [refused] = await store.take([bucket])
    assert not refused.allowed
    assert refused.retry_after_ms == 1000
    assert refused.full_after_ms == 10_000
    clock.now += 2.5
    [after] = await store.take([bucket])
    assert after.allowed
    assert after.remaining == 1  # 2.5 tokens refilled, one taken, floor(1.5)
    assert after.now_ms == int(clock.now * 1000)


async def test_retry_after_is_the_time_to_the_missing_tokens() -> None:
    clock = FakeClock()
    store = MemoryBucketStore(clock)
    await store.take([TakeRequest("k", 4, 4_000, cost=4)])
    [refused] = await store.take([TakeRequest("k", 4, 4_000, cost=3)])
    assert refused.retry_after_ms == 3_000


async def test_expired_buckets_and_grants_are_dropped() -> None:
    clock = FakeClock()
    store = MemoryBucketStore(clock)
    for index in range(20):
        await store.take([TakeRequest(f"client-{index}", 10, 1_000)])
    await store.grant_extra("client-0", 5, 500)
    assert len(store) == 21
    clock.now += 2.0  # every bucket is full again, the grant has lapsed
    await store.take([TakeRequest("newcomer", 10, 1_000)])
    assert len(store) == 1
    assert store.ttl_ms("client-3") is None


async def test_burst_grant_expires_by_itself() -> None:
    clock = FakeClock()
    store = MemoryBucketStore(clock)
    await store.grant_extra("k", 3, 1_000)
    clock.now += 0.5
    assert (await store.extra("k")).tokens == 3
    assert (await store.extra("k")).ttl_ms == pytest.approx(500, abs=1)
    clock.now += 0.6
    assert (await store.extra("k")).tokens == 0


async def test_a_second_grant_adds_tokens_and_keeps_the_later_expiry() -> None:
    clock = FakeClock()
    store = MemoryBucketStore(clock)
    await store.grant_extra("k", 3, 10_000)
    second = await store.grant_extra("k", 2, 1_000)
    assert (second.tokens, second.ttl_ms) == (5, 10_000)


async def test_every_expired_bucket_goes_on_the_next_millisecond() -> None:
    """Pruning runs at most once per millisecond but drops everything expired at the front, so
    a flood of one-off clients never outgrows what is still live."""
    clock = FakeClock()
    store = MemoryBucketStore(clock)
    for index in range(500):
        await store.take([TakeRequest(f"one-off-{index}", 10, 1_000)])
    assert len(store) == 500
    clock.now += 1.5  # all of them full again
    for index in range(3):
        await store.take([TakeRequest(f"later-{index}", 10, 1_000)])
    assert len(store) == 3


async def test_take_now_and_take_agree() -> None:
    clock = FakeClock()
    batch, single = MemoryBucketStore(clock), MemoryBucketStore(clock)
    request = TakeRequest("k", capacity=3, window_ms=3_000, cost=2)
    [first] = await batch.take([request])
    assert single.take_now(*request) == first
    [second] = await batch.take([request])
    assert single.take_now("k", 3, 3_000, 2) == second
    assert not second.allowed
