"""The shapes every rate-limiting part agrees on: decisions, bucket stores, health.

Two independent plug points, as in the `limits` library: the *policy* (token bucket, quota,
throttling) decides what to ask for, a *store* (memory, Redis, coalescing Redis) performs the
atomic step. Every store passes one contract-test suite, so the policy never knows which it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol, TypedDict, runtime_checkable

Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``); injected so tests control time."""

HealthStatus = Literal["healthy", "degraded", "unhealthy"]


class ComponentHealth(TypedDict):
    """What `/health/detailed` shows for one component (the monitoring engineer's shape)."""

    name: str
    status: HealthStatus
    detail: str
    backend: str
    failure_mode: str
    latency_ms: float | None
    consecutive_failures: int
    failures_total: int


class RateLimitDecision(NamedTuple):
    """The answer to one check; the middleware turns it into headers and maybe a 429/503.

    `reset_at` is the epoch second at which the client's bucket is full again; `retry_after` the
    seconds until this request would pass (0 when allowed). `degraded` marks a decision made by the
    failure policy because the backend could not be asked (fail-open or fail-closed).
    (An immutable NamedTuple: one is built per request, and a frozen dataclass costs ~3x more.)
    """

    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    retry_after: float
    degraded: bool = False


class TakeRequest(NamedTuple):
    """Take `cost` tokens from the bucket of `key` (capacity tokens, refilled per window).

    (A NamedTuple, like `TakeResult`: built for every check, and a tuple is the cheapest record.)
    """

    key: str
    capacity: int
    window_ms: int
    cost: int = 1


class TakeResult(NamedTuple):
    """What a store did with one `TakeRequest`."""

    allowed: bool
    remaining: int
    retry_after_ms: int
    full_after_ms: int
    now_ms: int


@dataclass(frozen=True, slots=True)
class ExtraTokens:
    """Burst tokens a client holds on top of its bucket, and how long they live."""

    tokens: int
    ttl_ms: int


@runtime_checkable
class BucketStore(Protocol):
    """Atomic token-bucket storage. One call = one atomic step per request (one round trip)."""

    name: str

    async def take(self, requests: Sequence[TakeRequest]) -> list[TakeResult]:
        """Take tokens for every request; results in the same order."""
        ...

    async def grant_extra(self, key: str, tokens: int, ttl_ms: int) -> ExtraTokens:
        """Add burst tokens for `key` that vanish after `ttl_ms` (extends, never shortens)."""
        ...

    async def extra(self, key: str) -> ExtraTokens:
        """The burst tokens `key` still holds (0 tokens when none)."""
        ...

    async def revoke_extra(self, key: str) -> None:
        """Drop the burst tokens of `key`."""
        ...

    async def start(self) -> None:
        """Prepare (e.g. register Lua scripts); safe to call more than once."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...

    async def aclose(self) -> None:
        """Release connections the store owns."""
        ...


@runtime_checkable
class InProcessBucketStore(BucketStore, Protocol):
    """A store that answers without I/O (the in-memory store).

    `take_now` is `take` of one request without the await. The limiter calls it directly: there
    is nothing to wait for, so no timeout needs arming around it (an `asyncio.timeout` costs more
    than the in-memory check itself), and no coroutine, list or request record is made.
    """

    def take_now(self, key: str, capacity: int, window_ms: int, cost: int = 1) -> TakeResult:
        """Take tokens for one request (the fields of a `TakeRequest`), synchronously."""
        ...


@runtime_checkable
class RateLimiter(Protocol):
    """What the middleware and the health endpoint need from a limiter."""

    @property
    def limit(self) -> int:
        """The configured requests per window (before dynamic throttling)."""
        ...

    async def check(self, key: str, cost: int = 1) -> RateLimitDecision:
        """Decide one request of `cost` tokens for client `key`; never raises for backend errors."""
        ...

    async def health(self) -> ComponentHealth:
        """Live state of the backend for `/health/detailed`."""
        ...

    async def start(self) -> None:
        """Open what the limiter needs (call from the app's lifespan)."""
        ...

    async def aclose(self) -> None:
        """Close what the limiter opened."""
        ...
