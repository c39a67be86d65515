"""QuotaManager over both stores: UTC calendar rollover, all-or-nothing periods, exactness,
clear errors, and the failure policy when Redis is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.config import RedisFailureMode
from app.rate_limiting.failure import FailurePolicy
from app.rate_limiting.quota import (
    Quota,
    QuotaManager,
    QuotaPeriod,
    UnknownFeatureError,
    period_window,
)
from app.rate_limiting.quota_store import MemoryQuotaStore, QuotaStore, RedisQuotaStore
from app.rate_limiting.redis_config import RedisConfig
from app.redis_client import RedisClient
from tests.support.redis_server import RedisServer

DAILY, MONTHLY = QuotaPeriod.DAILY, QuotaPeriod.MONTHLY


class Clock:
    """A settable UTC clock; the memory store reads the same time (epoch seconds)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


@pytest.fixture(params=["memory", "redis"])
async def quota_store(
    request: pytest.FixtureRequest, redis_client: RedisClient
) -> AsyncIterator[QuotaStore]:
    if request.param == "memory":
        yield MemoryQuotaStore()
    else:
        store = RedisQuotaStore(redis_client)
        await store.start()
        yield store


def manager(store: QuotaStore, clock: Clock, prefix: str, *quotas: Quota) -> QuotaManager:
    if isinstance(store, MemoryQuotaStore):
        store = MemoryQuotaStore(clock.epoch)
    # A deadline a loaded CI machine never hits, so counts are exact (fail-open is tested below).
    patient = FailurePolicy(timeout_seconds=5.0)
    return QuotaManager(store, quotas, clock=clock, prefix=prefix, failure=patient)


async def test_daily_quota_rolls_over_at_utc_midnight(quota_store, key_prefix) -> None:
    clock = Clock(datetime(2024, 3, 10, 23, 58, tzinfo=UTC))
    quotas = manager(quota_store, clock, key_prefix, Quota("deploys", {DAILY: 2}))
    assert (await quotas.consume("team-a", "deploys")).allowed
    assert (await quotas.consume("team-a", "deploys")).allowed
    refused = await quotas.consume("team-a", "deploys")
    assert not refused.allowed
    assert refused.resets_at == datetime(2024, 3, 11, tzinfo=UTC)
    assert refused.periods[0].used == 2  # a refusal charges nothing
    clock.now = datetime(2024, 3, 11, 0, 0, 1, tzinfo=UTC)
    allowed = await quotas.consume("team-a", "deploys")
    assert allowed.allowed
    assert allowed.periods[0].used == 1


async def test_daily_boundary_is_utc_not_local_time(quota_store, key_prefix) -> None:
    tokyo = timezone(timedelta(hours=9))
    clock = Clock(datetime(2024, 3, 11, 8, 30, tzinfo=tokyo))  # 23:30 UTC on the 10th
    quotas = manager(quota_store, clock, key_prefix, Quota("deploys", {DAILY: 1}))
    assert (await quotas.consume("team-a", "deploys")).allowed
    clock.now = datetime(2024, 3, 11, 8, 59, tzinfo=tokyo)  # still the 10th in UTC
    assert not (await quotas.consume("team-a", "deploys")).allowed
    clock.now = datetime(2024, 3, 11, 9, 0, tzinfo=tokyo)  # midnight UTC
    assert (await quotas.consume("team-a", "deploys")).allowed


async def test_monthly_quota_rolls_over_on_the_first(quota_store, key_prefix) -> None:
    clock = Clock(datetime(2024, 1, 31, 23, 0, tzinfo=UTC))
    quotas = manager(quota_store, clock, key_prefix, Quota("analyses", {MONTHLY: 1}))
    assert (await quotas.consume("u1", "analyses")).allowed
    refused = await quotas.consume("u1", "analyses")
    assert not refused.allowed
    assert refused.resets_at == datetime(2024, 2, 1, tzinfo=UTC)
    clock.now = datetime(2024, 2, 1, tzinfo=UTC)
    assert (await quotas.consume("u1", "analyses")).allowed


def test_period_windows_cover_month_and_year_ends() -> None:
    leap = period_window(MONTHLY, datetime(2024, 2, 29, 12, tzinfo=UTC))
    assert (leap.label, leap.ends_at) == ("2024-02", datetime(2024, 3, 1, tzinfo=UTC))
    december = period_window(MONTHLY, datetime(2024, 12, 31, 23, 59, tzinfo=UTC))
    assert december.ends_at == datetime(2025, 1, 1, tzinfo=UTC)
    day = period_window(DAILY, datetime(2024, 12, 31, 23, 59, tzinfo=UTC))
    assert (day.label, day.ends_at) == ("2024-12-31", datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        period_window(DAILY, datetime(2024, 1, 1))


async def test_daily_and_monthly_limits_charge_both_or_neither(quota_store, key_prefix) -> None:
    clock = Clock(datetime(2024, 5, 1, 9, tzinfo=UTC))
    quotas = manager(quota_store, clock, key_prefix, Quota("deploys", {DAILY: 2, MONTHLY: 3}))
    for day in (1, 1, 2):
        clock.now = datetime(2024, 5, day, 9, tzinfo=UTC)
        assert (await quotas.consume("team-a", "deploys")).allowed
    clock.now = datetime(2024, 5, 3, 9, tzinfo=UTC)
    refused = await quotas.consume("team-a", "deploys")  # day is fresh, month is full
    assert not refused.allowed
    assert [(p.period, p.used) for p in refused.periods] == [(DAILY, 0), (MONTHLY, 3)]
    assert refused.resets_at == datetime(2024, 6, 1, tzinfo=UTC)
    usage = await quotas.usage("team-a", "deploys")
    assert not usage.allowed
    assert usage.periods[0].used == 0  # the refused charge did not touch the daily counter


async def test_subjects_and_features_are_independent(quota_store, key_prefix) -> None:
    clock = Clock(datetime(2024, 5, 1, tzinfo=UTC))
    quotas = manager(quota_store, clock, key_prefix,
                     Quota("deploys", {DAILY: 1}), Quota("rollbacks", {DAILY: 1}))
    assert (await quotas.consume("team-a", "deploys")).allowed
    assert (await quotas.consume("team-b", "deploys")).allowed
    assert (await quotas.consume("team-a", "rollbacks")).allowed


async def test_concurrent_charges_are_exact(quota_store, key_prefix) -> None:
    clock = Clock(datetime(2024, 5, 1, tzinfo=UTC))
    quotas = manager(quota_store, clock, key_prefix, Quota("deploys", {DAILY: 10, MONTHLY: 50}))
    decisions = await asyncio.gather(*(quotas.consume("team-a", "deploys") for _ in range(64)))
    assert not any(d.degraded for d in decisions)
    assert sum(d.allowed for d in decisions) == 10


async def test_redis_counters_expire_after_their_period(redis_client, key_prefix) -> None:
    clock = Clock(datetime.now(UTC))
    quotas = manager(RedisQuotaStore(redis_client), clock, key_prefix, Quota("deploys", {DAILY: 5}))
    await quotas.consume("team-a", "deploys")
    [key] = [k async for k in redis_client.scan_iter(match=f"{key_prefix}:*")]
    assert key.decode().startswith(f"{key_prefix}:deploys:daily:{clock.now:%Y-%m-%d}:")
    ttl_seconds = await redis_client.ttl(key)
    end = period_window(DAILY, clock.now).ends_at + timedelta(hours=1)
    assert 0 < ttl_seconds <= (end - clock.now).total_seconds() + 1


async def test_bad_requests_name_the_problem() -> None:
    quotas = QuotaManager(MemoryQuotaStore(), [Quota("deploys", {DAILY: 1})])
    with pytest.raises(UnknownFeatureError, match="known: deploys"):
        await quotas.consume("team-a", "deplyos")
    with pytest.raises(ValueError, match="subject"):
        await quotas.consume("team a; DROP", "deploys")
    with pytest.raises(ValueError, match="amount"):
        await quotas.consume("team-a", "deploys", amount=0)
    assert (await quotas.usage("team-a", "deploys")).periods[0].used == 0


def test_quota_definitions_are_validated() -> None:
    with pytest.raises(ValueError, match="feature"):
        Quota("bad feature", {DAILY: 1})
    with pytest.raises(ValueError, match="at least one"):
        Quota("deploys", {})
    with pytest.raises(ValueError, match="limit"):
        Quota("deploys", {DAILY: 0})


@pytest.mark.parametrize(("mode", "allowed"),
                         [(RedisFailureMode.OPEN, True), (RedisFailureMode.CLOSED, False)])
async def test_a_stopped_redis_follows_the_failure_mode(
    outage_redis: RedisServer, mode: RedisFailureMode, allowed: bool
) -> None:
    client = RedisConfig(outage_redis.url).build()
    outage_redis.stop()
    quotas = QuotaManager(RedisQuotaStore(client), [Quota("deploys", {DAILY: 1})],
                          failure=FailurePolicy(mode, timeout_seconds=0.5))
    decision = await quotas.consume("team-a", "deploys")
    assert decision.degraded
    assert decision.allowed is allowed
    await client.aclose()
