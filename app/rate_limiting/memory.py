"""In-process bucket store: the embedded default when REDIS_URL is unset.

It runs the same arithmetic as `token_bucket.lua`, so both pass one contract suite. Atomicity
comes from the event loop: a take never awaits between reading and writing a bucket. It is
synchronous underneath (`take_now`, the `InProcessBucketStore` protocol), so the limiter calls it
without arming a timeout. Limits are per process, which is right for one instance and wrong for
several (use Redis there).

Memory stays bounded by expiry, the way Redis TTLs bound the Redis store: every entry records when
it is worthless again (a bucket when it would be full, burst tokens when they lapse), entries are
kept in write order, and takes drop the expired ones from the front, at most once per millisecond
(each entry is dropped once: amortised O(1) per take).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from app.rate_limiting import native
from app.rate_limiting.protocol import Clock, ExtraTokens, TakeRequest, TakeResult
from app.rate_limiting.throttling import DynamicThrottling

_result = tuple.__new__  # TakeResult without its Python-level __new__: built for every take


@dataclass(slots=True)
class PyBucket:
    """One client's bucket: `tokens` left at `at_ms`, full again at `expires_ms`."""

    tokens: float
    at_ms: float
    expires_ms: float


# The native type when built: the native admit path (`admit_now`) shares this store's dict.
_Bucket: type[PyBucket] = native.Bucket if native.native_enabled() else PyBucket


@dataclass(slots=True)
class _Extra:
    tokens: int
    expires_ms: float


class MemoryBucketStore:
    """Token buckets and burst grants in dicts; one process, no I/O."""

    name = "memory"

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._buckets: dict[str, PyBucket] = {}
        self._extras: dict[str, _Extra] = {}
        self._next_prune_ms = 0.0

    def _now_ms(self) -> float:
        """Whole milliseconds, as token_bucket.lua counts (so both stores round alike)."""
        return float(math.floor(self._clock() * 1000.0))

    def take_now(self, key: str, capacity: int, window_ms: int, cost: int = 1) -> TakeResult:
        """One take (a `TakeRequest`'s fields), synchronously (`InProcessBucketStore`): the
        limiter's path for every request.

        Written as one frame with the common case (tokens left, no burst grant) first: in a busy
        server each call and each line on this path costs far more than its arithmetic."""
        now = float(math.floor(self._clock() * 1000.0))  # as `_now_ms`
        if now >= self._next_prune_ms:
            self._prune(now)
        buckets = self._buckets
        size = float(capacity)  # tokens a full bucket holds
        rate = size / window_ms
        bucket = buckets.get(key)
        if bucket is None or bucket.expires_ms <= now:
            tokens = size
        else:
            tokens = min(size, bucket.tokens + max(0.0, now - bucket.at_ms) * rate)
        extra = self._live_extra(key, now) if self._extras else None
        spare = extra.tokens if extra is not None else 0
        if tokens >= cost:
            tokens -= cost
            full_after = math.ceil((size - tokens) / rate)
            if bucket is None:
                buckets[key] = _Bucket(tokens, now, now + full_after + 1)
            else:  # moved to the end: dict order = write order (what _drop_expired relies on)
                del buckets[key]
                bucket.tokens, bucket.at_ms, bucket.expires_ms = tokens, now, now + full_after + 1
                buckets[key] = bucket
            # Positional: built for every check (see TakeResult's field order).
            return _result(TakeResult, (True, math.floor(tokens) + spare, 0, full_after, int(now)))
        allowed, retry_ms = False, 0
        if extra is not None and spare >= cost:
            extra.tokens -= cost
            spare = extra.tokens
            allowed = True
        elif cost > size:
            retry_ms = window_ms
        else:
            retry_ms = math.ceil((cost - tokens) / rate)
        full_after = math.ceil((size - tokens) / rate)
        return TakeResult(allowed, math.floor(tokens) + spare, retry_ms, full_after, int(now))

    def admit_now(
        self,
        limit: int,
        window_ms: int,
        throttling: DynamicThrottling | None = None,
        counts: dict[str, int] | None = None,
    ) -> native.Admit | None:
        """The native admit path over this store's tables, or None when it is not built.

        `admit(key)` takes one token exactly as `take_now(key, capacity, window_ms)` would, with
        `capacity` the limit `throttling` grants now,
        and returns the X-RateLimit-* headers (counting "allowed" in `counts`); when the request
        would be refused, or anything is unusual, it returns None having changed nothing."""
        if not native.native_enabled() or _Bucket is not native.Bucket:
            return None
        clock = None if self._clock is time.time else self._clock  # None: read natively
        capacity = capacity_clock = None
        if throttling is not None:
            capacity = throttling.effective_limit_until
            capacity_clock = None if throttling.clock is time.monotonic else throttling.clock
        checker = native.AdmitNow(self._buckets, self._extras, limit, window_ms,
                                  capacity=capacity, counts=counts, clock=clock,
                                  capacity_clock=capacity_clock)
        admit: native.Admit = checker.admit
        return admit

    async def take(self, requests: Sequence[TakeRequest]) -> list[TakeResult]:
        return [self.take_now(*request) for request in requests]

    def _live_extra(self, key: str, now: float) -> _Extra | None:
        extra = self._extras.get(key)
        if extra is None:
            return None
        if extra.expires_ms <= now:
            del self._extras[key]
            return None
        return extra

    def _prune(self, now: float) -> None:
        """Drop the expired entries at the front of each table, once per millisecond at most:
        every entry is dropped once, so the work is O(1) per take on average."""
        self._next_prune_ms = now + 1.0
        _drop_expired(self._buckets, now)
        _drop_expired(self._extras, now)

    async def grant_extra(self, key: str, tokens: int, ttl_ms: int) -> ExtraTokens:
        now = self._now_ms()
        current = self._live_extra(key, now)
        total = tokens + (current.tokens if current is not None else 0)
        expires = max(now + ttl_ms, current.expires_ms if current is not None else 0.0)
        self._extras.pop(key, None)
        self._extras[key] = _Extra(total, expires)
        return ExtraTokens(tokens=total, ttl_ms=math.ceil(expires - now))

    async def extra(self, key: str) -> ExtraTokens:
        now = self._now_ms()
        current = self._live_extra(key, now)
        if current is None:
            return ExtraTokens(tokens=0, ttl_ms=0)
        return ExtraTokens(tokens=current.tokens, ttl_ms=math.ceil(current.expires_ms - now))

    async def revoke_extra(self, key: str) -> None:
        self._extras.pop(key, None)

    def ttl_ms(self, key: str) -> float | None:
        """Milliseconds until the bucket of `key` expires (None: no bucket); for tests and ops."""
        bucket = self._buckets.get(key)
        return None if bucket is None else bucket.expires_ms - self._now_ms()

    def __len__(self) -> int:
        return len(self._buckets) + len(self._extras)

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def _drop_expired(table: dict[str, PyBucket] | dict[str, _Extra], now: float) -> None:
    """Drop expired entries from the front of `table` (write order) up to the first live one."""
    while table:
        oldest = next(iter(table))
        if table[oldest].expires_ms > now:
            return
        del table[oldest]
