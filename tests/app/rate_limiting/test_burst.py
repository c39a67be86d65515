"""BurstAllowance on every store: validated grants, spent after the bucket, gone after the TTL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.rate_limiting.burst import BurstAllowance
from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.failure import BackendUnavailableError, FailurePolicy
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.protocol import BucketStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_config import RedisConfig
from tests.support.redis_server import RedisServer


def patient_limiter(store: BucketStore, **kwargs: Any) -> TokenBucketRateLimiter:
    """A limiter whose backend deadline (5 s) a loaded CI machine never hits: results are exact.

    (The production default is 50 ms; past it a check fails open, which the failure tests cover.)
    """
    return TokenBucketRateLimiter(store, failure=FailurePolicy(timeout_seconds=5.0), **kwargs)



async def test_grant_then_spend_then_revoke(store: BucketStore) -> None:
    burst = BurstAllowance(store)
    limiter = patient_limiter(store, limit=1, window_seconds=3600)
    grant = await burst.grant("ip:192.0.2.9", tokens=2, ttl_seconds=60)
    assert grant.tokens == 2
    assert 59 < grant.expires_in_seconds <= 60
    assert [(await limiter.check("ip:192.0.2.9")).allowed for _ in range(4)] == [
        True, True, True, False,
    ]
    await burst.grant("ip:192.0.2.9", tokens=5, ttl_seconds=60)
    await burst.revoke("ip:192.0.2.9")
    assert (await burst.remaining("ip:192.0.2.9")).tokens == 0
    assert not (await limiter.check("ip:192.0.2.9")).allowed


async def test_grants_expire_by_themselves(store: BucketStore) -> None:
    burst = BurstAllowance(store)
    limiter = patient_limiter(store, limit=1, window_seconds=3600)
    await limiter.check("k")
    assert (await burst.grant("k", tokens=10, ttl_seconds=0.2)).tokens == 10
    await asyncio.sleep(0.35)  # only a lower bound on time: the grant is gone by now
    assert (await burst.remaining("k")).tokens == 0
    assert not (await limiter.check("k")).allowed


async def test_concurrent_spending_of_a_grant_is_exact(store: BucketStore) -> None:
    limiter = patient_limiter(store, limit=5, window_seconds=24 * 3600)
    await BurstAllowance(store).grant("k", tokens=20, ttl_seconds=60)
    decisions = await asyncio.gather(*(limiter.check("k") for _ in range(64)))
    assert sum(d.allowed for d in decisions) == 25


async def test_the_redis_grant_key_always_has_a_ttl(redis_client, key_prefix: str) -> None:
    store = RedisBucketStore(redis_client, prefix=key_prefix)
    await BurstAllowance(store).grant("k", tokens=3, ttl_seconds=30)
    ttl = await redis_client.pttl(store.extra_key("k"))
    assert 29_000 < ttl <= 30_000


@pytest.mark.parametrize(
    ("client", "tokens", "ttl", "field"),
    [("", 1, 1.0, "client"), ("k", 0, 1.0, "tokens"), ("k", 10**7, 1.0, "tokens"),
     ("k", 1, 0, "ttl_seconds"), ("k", 1, 10**9, "ttl_seconds")],
)
async def test_bad_grants_name_the_field_and_change_nothing(
    client: str, tokens: int, ttl: float, field: str
) -> None:
    store = MemoryBucketStore()
    with pytest.raises(ValueError, match=field):
        await BurstAllowance(store).grant(client, tokens, ttl)
    assert len(store) == 0


async def test_a_grant_against_a_stopped_redis_raises_a_clear_error(
    outage_redis: RedisServer,
) -> None:
    client = RedisConfig(outage_redis.url).build()
    outage_redis.stop()
    burst = BurstAllowance(
        CoalescingBucketStore(RedisBucketStore(client)),
        failure=FailurePolicy(timeout_seconds=0.5),
    )
    with pytest.raises(BackendUnavailableError, match="connection"):
        await burst.grant("k", 1, 10)
    await client.aclose()
