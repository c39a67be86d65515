"""What the limiter does when its backend is down or slow (decided on purpose, never a 500).

* Every backend call is bounded by `timeout_seconds` (REDIS_TIMEOUT_SECONDS): a slow Redis costs a
  request at most that long.
* On failure the configured mode decides (REDIS_FAILURE_MODE):
  ``open`` (default) admits the request — availability first; the limit is unenforced while
  Redis is gone, which the metric and `/health/detailed` ("degraded") make visible.
  ``closed`` refuses with 503 + Retry-After — protection first; health says "unhealthy".
* A small circuit breaker: after `breaker_threshold` consecutive failures the backend is skipped
  for `breaker_cooldown_seconds`, so an outage does not add the timeout to every request; after the
  cooldown the next calls try again, and one success closes the breaker.
* Every failure is counted (by kind) through the observer and kept for health.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.config import RedisFailureMode
from app.rate_limiting.protocol import Clock, RateLimitDecision

logger = logging.getLogger(__name__)


class BackendUnavailableError(RuntimeError):
    """A rate-limit backend could not answer; `kind` says how (timeout, connection, ...)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"rate-limit backend unavailable ({kind}): {detail}")
        self.kind = kind
        self.detail = detail


def classify(error: BaseException) -> str:
    """A short, bounded label for a failure (metric label values must not explode)."""
    if isinstance(error, BackendUnavailableError):
        return error.kind
    if isinstance(error, TimeoutError | RedisTimeoutError):
        return "timeout"
    if isinstance(error, RedisConnectionError | ConnectionError | OSError):
        return "connection"
    if isinstance(error, ResponseError):
        return "response"
    if isinstance(error, RedisError):
        return "redis"
    return "unexpected"


@dataclass
class FailureState:
    """Counters behind health: how often and how recently the backend failed."""

    consecutive_failures: int = 0
    failures_total: int = 0
    last_error: str = ""
    last_failure_at: float | None = None
    opened_at: float | None = None


class FailurePolicy:
    """Timeout, fail-open/closed fallback and circuit breaker for one backend."""

    def __init__(
        self,
        mode: RedisFailureMode = RedisFailureMode.OPEN,
        *,
        timeout_seconds: float = 0.05,
        breaker_threshold: int = 3,
        breaker_cooldown_seconds: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        if breaker_threshold < 1:
            raise ValueError(f"breaker_threshold must be at least 1, got {breaker_threshold}")
        self.mode = RedisFailureMode(mode)
        self.timeout_seconds = timeout_seconds
        self.breaker_threshold = breaker_threshold
        self.breaker_cooldown_seconds = breaker_cooldown_seconds
        self._clock = clock
        self.state = FailureState()

    def timeout(self) -> asyncio.Timeout:
        """`async with policy.timeout():` bounds one backend call."""
        return asyncio.timeout(self.timeout_seconds)

    def circuit_open(self) -> bool:
        """True while the breaker skips the backend (threshold reached, cooldown running)."""
        opened = self.state.opened_at
        return opened is not None and self._clock() < opened + self.breaker_cooldown_seconds

    def record_success(self) -> None:
        if self.state.consecutive_failures:
            logger.info("rate-limit backend recovered after %d failures",
                        self.state.consecutive_failures)
        self.state.consecutive_failures = 0
        self.state.opened_at = None

    def record_failure(self, error: BaseException) -> str:
        """Count a failure, maybe open the breaker; returns the failure's kind."""
        kind = classify(error)
        state = self.state
        state.consecutive_failures += 1
        state.failures_total += 1
        state.last_error = f"{kind}: {error}"[:300]
        state.last_failure_at = time.time()
        if state.consecutive_failures >= self.breaker_threshold:
            state.opened_at = self._clock()
        # Log transitions, not every request of an outage (the metric counts every one).
        if kind == "unexpected" or state.consecutive_failures in (1, self.breaker_threshold):
            logger.warning(
                "rate-limit backend failed (%s, %d in a row); failing %s",
                kind, state.consecutive_failures, self.mode.value,
                exc_info=error if kind == "unexpected" else None,
            )
        return kind

    def fallback(self, limit: int, now: float) -> RateLimitDecision:
        """The decision when the backend cannot be asked, per the configured mode."""
        if self.mode is RedisFailureMode.OPEN:
            return RateLimitDecision(
                allowed=True, limit=limit, remaining=limit, reset_at=now, retry_after=0.0,
                degraded=True,
            )
        retry = max(1.0, math.ceil(self.breaker_cooldown_seconds))
        return RateLimitDecision(
            allowed=False, limit=limit, remaining=0, reset_at=now + retry, retry_after=retry,
            degraded=True,
        )
