"""The in-memory quota store forgets counters of past periods."""

from __future__ import annotations

from app.rate_limiting.quota_store import MemoryQuotaStore, QuotaCounter


async def test_lapsed_counters_are_dropped() -> None:
    now = [1_000.0]
    store = MemoryQuotaStore(lambda: now[0])
    for index in range(10):
        await store.charge([QuotaCounter(f"day-{index}", 5, ttl_ms=1_000)], 1)
    assert len(store) == 10
    now[0] += 2.0
    result = await store.charge([QuotaCounter("day-new", 5, ttl_ms=1_000)], 1)
    assert result.used == (1,)
    assert len(store) == 1
