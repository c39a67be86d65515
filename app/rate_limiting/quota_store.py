"""Quota counters: charge several period counters all-or-nothing (memory or Redis).

A counter key names its feature, period and calendar label, so a new UTC day or month is simply a
new key; old keys expire at the end of their period (plus a grace for skewed clocks) by
themselves. Redis runs `quota.lua` (one atomic step, expiry in the same step).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.rate_limiting.lua import Arg, LuaScript
from app.rate_limiting.protocol import Clock
from app.redis_client import RedisClient

QUOTA_SCRIPT = LuaScript("quota.lua")


@dataclass(frozen=True, slots=True)
class QuotaCounter:
    """One period counter: its key, its limit and how long (ms from now) it must be kept."""

    key: str
    limit: int
    ttl_ms: int


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """Whether the charge happened, and each counter's usage after the call."""

    allowed: bool
    used: tuple[int, ...]


class QuotaStore(Protocol):
    name: str

    async def charge(self, counters: Sequence[QuotaCounter], amount: int) -> ChargeResult:
        """Add `amount` to every counter if none would exceed its limit; else to none."""
        ...

    async def start(self) -> None: ...

    async def ping(self) -> None: ...

    async def aclose(self) -> None: ...


class MemoryQuotaStore:
    """Counters in a dict; atomic because `charge` never awaits."""

    name = "memory"

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (used, expires_at_ms)

    def _used(self, key: str, now_ms: float) -> int:
        entry = self._counters.get(key)
        if entry is None:
            return 0
        if entry[1] <= now_ms:
            del self._counters[key]
            return 0
        return entry[0]

    def _prune(self, now_ms: float) -> None:
        """Drop a few lapsed counters from the front (write order), so memory stays bounded."""
        for _ in range(32):
            oldest = next(iter(self._counters), None)
            if oldest is None or self._counters[oldest][1] > now_ms:
                return
            del self._counters[oldest]

    def __len__(self) -> int:
        return len(self._counters)

    async def charge(self, counters: Sequence[QuotaCounter], amount: int) -> ChargeResult:
        now_ms = self._clock() * 1000
        self._prune(now_ms)
        used = [self._used(counter.key, now_ms) for counter in counters]
        allowed = all(u + amount <= c.limit for u, c in zip(used, counters, strict=True))
        if allowed and amount > 0:
            used = [u + amount for u in used]
            for counter, total in zip(counters, used, strict=True):
                self._counters.pop(counter.key, None)  # re-insert: dict order = write order
                self._counters[counter.key] = (total, now_ms + counter.ttl_ms)
        return ChargeResult(allowed, tuple(used))

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class RedisQuotaStore:
    """Counters in Redis through `quota.lua`."""

    name = "redis"

    def __init__(self, client: RedisClient, *, owns_client: bool = False) -> None:
        self.client = client
        self._owns_client = owns_client

    async def charge(self, counters: Sequence[QuotaCounter], amount: int) -> ChargeResult:
        keys: list[Arg] = [counter.key for counter in counters]
        args: list[Arg] = [amount]
        for counter in counters:
            args.extend((counter.limit, counter.ttl_ms))
        pool = self.client.connection_pool
        conn = await pool.get_connection()
        try:
            reply = await QUOTA_SCRIPT.run(conn, keys, args)
        finally:
            await pool.release(conn)
        return ChargeResult(bool(reply[0]), tuple(int(v) for v in reply[1:]))

    async def start(self) -> None:
        await QUOTA_SCRIPT.register(self.client)

    async def ping(self) -> None:
        await self.client.ping()

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()  # type: ignore[attr-defined, unused-ignore]
