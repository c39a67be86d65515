"""`RedisSessionStore`: WebSocket sessions shared by every replica, so a reconnect can land
on any instance and find its session.

Layout:
* `session:{user}:{connection_id}` — the session as JSON, with a TTL (24 h by default).
* `session-index:{user}` — a sorted set of the user's connection ids scored by EXPIRY time
  (ms since the epoch). Listing drops members whose score is in the past before reading, so an
  expired session never shows up even though Redis cannot expire set members by itself; the index
  key gets the same TTL, so a user who went away leaves nothing behind.

Every write is one MULTI/EXEC round trip, so the key and its index entry change together.
User ids and connection ids are restricted to `[A-Za-z0-9_.@-]{1,128}`: a `:` in either would
make two different (user, connection) pairs map to the same key.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.redis_client import RedisClient

_ID = re.compile(r"[A-Za-z0-9_.@\-]{1,128}")
DEFAULT_SESSION_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Session:
    user: str
    connection_id: str
    data: dict[str, Any]
    expires_at_ms: int


def session_key(user: str, connection_id: str) -> str:
    return f"session:{_checked('user', user)}:{_checked('connection_id', connection_id)}"


def index_key(user: str) -> str:
    return f"session-index:{_checked('user', user)}"


def _checked(field: str, value: str) -> str:
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise ValueError(f"{field} must match [A-Za-z0-9_.@-]{{1,128}}, got {value!r}")
    return value


class RedisSessionStore:
    """Create, read, refresh, delete and list sessions; `clock_ms` is injectable for tests."""

    def __init__(
        self,
        redis: RedisClient,
        ttl_seconds: float = DEFAULT_SESSION_TTL_SECONDS,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be > 0, got {ttl_seconds}")
        self.redis = redis
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self._clock_ms = clock_ms

    async def save(self, user: str, connection_id: str, data: Mapping[str, Any]) -> Session:
        """Create or replace a session; its TTL starts again from now."""
        key, index = session_key(user, connection_id), index_key(user)
        payload = json.dumps(dict(data), separators=(",", ":"))
        now = self._clock_ms()
        expires = now + self.ttl_ms
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, payload, px=self.ttl_ms)
            pipe.zadd(index, {connection_id: expires})
            pipe.zremrangebyscore(index, "-inf", now)
            pipe.pexpire(index, self.ttl_ms, gt=True)
            pipe.pexpire(index, self.ttl_ms, nx=True)
            await pipe.execute()
        return Session(user, connection_id, dict(data), expires)

    async def get(self, user: str, connection_id: str) -> Session | None:
        key = session_key(user, connection_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            raw, ttl_ms = await pipe.execute()
        if raw is None or ttl_ms < 0:
            return None
        return Session(user, connection_id, json.loads(raw), self._clock_ms() + ttl_ms)

    async def refresh(self, user: str, connection_id: str) -> bool:
        """Extend a live session's TTL (a WebSocket heartbeat); False if it already expired."""
        key, index = session_key(user, connection_id), index_key(user)
        now = self._clock_ms()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.pexpire(key, self.ttl_ms)
            pipe.zadd(index, {connection_id: now + self.ttl_ms}, xx=True)
            pipe.pexpire(index, self.ttl_ms, gt=True)
            refreshed, *_ = await pipe.execute()
        if not refreshed:
            await self.redis.zrem(index, connection_id)
        return bool(refreshed)

    async def delete(self, user: str, connection_id: str) -> bool:
        """Remove a session and its index entry; False if there was none."""
        key, index = session_key(user, connection_id), index_key(user)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.zrem(index, connection_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def active_connections(self, user: str) -> list[str]:
        """Connection ids of the user's unexpired sessions, soonest-expiring first."""
        return [cid for cid, _ in await self._live_index(user)]

    async def active_sessions(self, user: str) -> list[Session]:
        """The user's unexpired sessions with their data (two round trips in all)."""
        live = await self._live_index(user)
        if not live:
            return []
        payloads = await self.redis.mget([session_key(user, cid) for cid, _ in live])
        return [
            Session(user, cid, json.loads(raw), expires)
            for (cid, expires), raw in zip(live, payloads, strict=True)
            if raw is not None
        ]

    async def _live_index(self, user: str) -> list[tuple[str, int]]:
        """Prune expired index entries, then read the rest with their expiry, in one MULTI."""
        index = index_key(user)
        now = self._clock_ms()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(index, "-inf", now)
            pipe.zrangebyscore(index, f"({now}", "+inf", withscores=True)
            _, members = await pipe.execute()
        return [(_text(member), int(score)) for member, score in members]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
