"""Dynamic throttling: grant a smaller share of the rate limit while this instance is overloaded.

The load signal (a number, 1.0 = at capacity) is the larger of two measurements, both cheap and
both about *this* process, which is what a per-instance overload protection needs:

* `InFlightRequests` — requests inside the app now ÷ the capacity the operator declares
  (RATE_LIMIT_THROTTLE_CAPACITY). Queues build up before CPU shows 100 %.
* `EventLoopLag` — how late a periodic timer fires ÷ a lag budget
  (RATE_LIMIT_THROTTLE_LAG_BUDGET_SECONDS). An event loop that is late serves everyone late.

`DynamicThrottling` samples the signal at most once per `interval_seconds` and moves a factor in
[min_factor, 1] the way TCP congestion control does (AIMD): above the threshold (80 %) it multiplies
the factor by `decrease` (backs off fast); at or below `restore_below` it adds `restore_step`
(recovers gradually, so load does not snap back and oscillate); in between it holds. The effective
limit is ``max(1, floor(limit * factor))``. Any `LoadSignal` can be plugged in (tests feed a
scripted one).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Sequence
from typing import Protocol

from app.rate_limiting.metrics import NullObserver, RateLimitObserver
from app.rate_limiting.protocol import Clock


class LoadSignal(Protocol):
    """Current load of this instance: 0 idle, 1.0 at capacity, above 1 overloaded."""

    def load(self) -> float: ...


class InFlightRequests:
    """Counts requests in progress; the rate-limit middleware calls `enter`/`exit`."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.current = 0

    def enter(self) -> None:
        self.current += 1

    def exit(self) -> None:
        if self.current > 0:  # never below zero, even if exits outnumber entries
            self.current -= 1

    def load(self) -> float:
        return self.current / self.capacity


class EventLoopLag:
    """Measures event-loop lag with a timer task; `start()`/`stop()` from the app's lifespan.

    `load()` reports the worst lag seen since the previous `load()` call (peak-hold), so a stall
    between two throttling samples is not missed because later timer ticks were on time.
    """

    def __init__(self, budget_seconds: float = 0.1, interval_seconds: float = 0.05) -> None:
        if budget_seconds <= 0 or interval_seconds <= 0:
            raise ValueError("budget_seconds and interval_seconds must be positive")
        self.budget_seconds = budget_seconds
        self.interval_seconds = interval_seconds
        self.lag_seconds = 0.0
        self._peak = 0.0
        self._task: asyncio.Task[None] | None = None

    def load(self) -> float:
        peak, self._peak = max(self._peak, self.lag_seconds), self.lag_seconds
        return peak / self.budget_seconds

    def record(self, lag_seconds: float) -> None:
        """Take one lag measurement (the timer task calls this; so can tests)."""
        self.lag_seconds = max(0.0, lag_seconds)
        self._peak = max(self._peak, self.lag_seconds)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + self.interval_seconds
            await asyncio.sleep(self.interval_seconds)
            self.record(loop.time() - expected)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class HighestLoad:
    """The load of the most loaded of several signals."""

    def __init__(self, signals: Sequence[LoadSignal]) -> None:
        if not signals:
            raise ValueError("HighestLoad needs at least one signal")
        self.signals = tuple(signals)

    def load(self) -> float:
        return max(signal.load() for signal in self.signals)


class DynamicThrottling:
    """AIMD factor over a load signal; see the module docstring for the rules."""

    def __init__(
        self,
        signal: LoadSignal,
        *,
        threshold: float = 0.8,
        restore_below: float | None = None,
        decrease: float = 0.5,
        restore_step: float = 0.1,
        min_factor: float = 0.2,
        interval_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        observer: RateLimitObserver | None = None,
    ) -> None:
        restore_below = threshold - 0.1 if restore_below is None else restore_below
        if threshold <= 0:
            raise ValueError(f"threshold must be positive, got {threshold}")
        if not 0 <= restore_below <= threshold:
            raise ValueError(f"restore_below must be in [0, threshold], got {restore_below}")
        if not 0 < decrease < 1:
            raise ValueError(f"decrease must be in (0, 1), got {decrease}")
        if not 0 < min_factor <= 1 or not 0 < restore_step <= 1:
            raise ValueError("min_factor and restore_step must be in (0, 1]")
        self.signal = signal
        self.threshold = threshold
        self.restore_below = restore_below
        self.decrease = decrease
        self.restore_step = restore_step
        self.min_factor = min_factor
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._observer = observer or NullObserver()
        self._factor = 1.0
        self._next_sample = clock()

    def factor(self) -> float:
        """The share of the limit granted now (re-evaluated at most once per interval)."""
        now = self._clock()
        if now >= self._next_sample:
            self._next_sample = now + self.interval_seconds
            self._adjust(self.signal.load())
        return self._factor

    def _adjust(self, load: float) -> None:
        before = self._factor
        if load > self.threshold:
            self._factor = round(max(self.min_factor, self._factor * self.decrease), 6)
        elif load <= self.restore_below:
            self._factor = round(min(1.0, self._factor + self.restore_step), 6)
        if self._factor != before:
            self._observer.throttle_factor(self._factor)

    def effective_limit(self, limit: int) -> int:
        """The limit to enforce now for a configured `limit`."""
        factor = self.factor()
        return limit if factor >= 1.0 else max(1, math.floor(limit * factor))

    def effective_limit_until(self, limit: int) -> tuple[int, float]:
        """`effective_limit(limit)` and, on `clock`, the time until which it stays the answer
        (the next sample): a caller may keep it until then rather than ask per request."""
        return self.effective_limit(limit), self._next_sample

    @property
    def clock(self) -> Clock:
        return self._clock
