"""`ConnectionPoolConfig`: how many connections each client pool of one replica may hold.

Base size by environment (seed: development 5, staging 10, production 20) times a load
multiplier (expected traffic relative to normal, rounded up), plus an overflow of 50 % of that
base for bursts. `DATABASE_POOL_SIZE` / `DATABASE_POOL_OVERFLOW` override the computed numbers.

The numbers are USED, not just reported: `create_app`'s lifespan sizes the Redis pool
(`max_connections = size + overflow`, a blocking pool: a burst waits for a connection instead
of failing) and the httpx pool (`max_keepalive_connections = size`, `max_connections = size +
overflow`: overflow connections are opened for a burst and closed after it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from app.config import Environment, Settings

BASE_POOL_SIZE: dict[Environment, int] = {
    Environment.DEVELOPMENT: 5,
    Environment.STAGING: 10,
    Environment.PRODUCTION: 20,
}
OVERFLOW_FRACTION = 0.5


@dataclass(frozen=True)
class ConnectionPoolConfig:
    """Pool size (kept open) and overflow (opened under load) for one client pool."""

    size: int
    overflow: int

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"pool size must be >= 1, got {self.size}")
        if self.overflow < 0:
            raise ValueError(f"pool overflow must be >= 0, got {self.overflow}")

    @property
    def max_connections(self) -> int:
        return self.size + self.overflow

    @classmethod
    def for_environment(
        cls,
        environment: Environment,
        load_multiplier: float = 1.0,
        size_override: int | None = None,
        overflow_override: int | None = None,
    ) -> ConnectionPoolConfig:
        """Base size for `environment` times `load_multiplier` (rounded up), overflow 50 % of it."""
        if not 0 < load_multiplier <= 100:
            raise ValueError(f"load_multiplier must be in (0, 100], got {load_multiplier}")
        size = size_override or math.ceil(BASE_POOL_SIZE[environment] * load_multiplier)
        overflow = (
            overflow_override
            if overflow_override is not None
            else math.ceil(size * OVERFLOW_FRACTION)
        )
        return cls(size=size, overflow=overflow)

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionPoolConfig:
        return cls.for_environment(
            settings.environment,
            settings.pool_load_multiplier,
            settings.database_pool_size,
            settings.database_pool_overflow,
        )

    def httpx_limits(self) -> httpx.Limits:
        return httpx.Limits(
            max_keepalive_connections=self.size, max_connections=self.max_connections
        )
