"""`RedisClient`: the one spelling of the async Redis client type used across `app/`.

The installed `types-redis` stubs make `Redis` generic while redis-py >= 5 itself (which ships
its own types) does not; the alias hides that difference in one place, and works at run time
too (FastAPI evaluates dependency annotations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from redis.asyncio import Redis

if TYPE_CHECKING:
    RedisClient: TypeAlias = Redis[Any]
else:
    RedisClient = Redis

__all__ = ["RedisClient"]
