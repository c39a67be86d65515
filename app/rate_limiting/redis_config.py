"""`RedisConfig`: one place that turns settings into a `redis.asyncio.Redis` with a bounded pool.

Why bounded and blocking: an unbounded pool opens a connection per concurrent request when Redis
slows down, which makes the slowdown worse. A `BlockingConnectionPool` caps connections at
`max_connections` and makes callers wait (up to the timeout) for a free one. The monitoring
engineer's `ConnectionPoolConfig` sizes `max_connections`; anything else may pass it directly.

No retries inside redis-py: every caller here has its own deadline and failure policy, and a
retried EVALSHA after an ambiguous error could charge a bucket twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.config import Settings
from app.redis_client import RedisClient


class RedisNotConfiguredError(ValueError):
    """REDIS_URL is unset but a Redis client was asked for."""


@dataclass(frozen=True, slots=True)
class RedisConfig:
    """How to reach Redis and how many connections one process may hold."""

    url: str
    max_connections: int = 32
    timeout_seconds: float = 0.05
    connect_timeout_seconds: float = 1.0
    health_check_interval_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {self.max_connections}")
        if self.timeout_seconds <= 0 or self.connect_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")

    @classmethod
    def from_settings(cls, settings: Settings, *, max_connections: int = 32) -> RedisConfig:
        if settings.redis_url is None:
            raise RedisNotConfiguredError("REDIS_URL is not set")
        return cls(
            url=settings.redis_url.get_secret_value(),
            max_connections=max_connections,
            timeout_seconds=settings.redis_timeout_seconds,
            connect_timeout_seconds=max(settings.redis_timeout_seconds, 1.0),
        )

    def build(self) -> RedisClient:
        """A client over a fresh bounded pool; the caller owns it (`await client.aclose()`)."""
        pool = BlockingConnectionPool.from_url(  # type: ignore[var-annotated, unused-ignore]
            self.url,
            max_connections=self.max_connections,
            timeout=self.timeout_seconds,
            socket_connect_timeout=self.connect_timeout_seconds,
            # A read deadline as a backstop for callers without their own (health, admin).
            socket_timeout=max(self.timeout_seconds * 20, 1.0),
            health_check_interval=self.health_check_interval_seconds,
            retry=Retry(NoBackoff(), 0),
        )
        # from_pool: the client owns the pool, so `aclose()` closes its connections too
        # (`Redis(connection_pool=...)` would leave them open).
        client: RedisClient = Redis.from_pool(pool)  # type: ignore[attr-defined, unused-ignore]
        return client
