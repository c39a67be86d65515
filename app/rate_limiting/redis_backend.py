"""Redis bucket store: one atomic Lua call per `take`, shared by every app instance.

Keys (with the configurable prefix, default ``floodgate:rl``):
``<prefix>:tb:<client>`` the string "<tokens> <at_ms>" and ``<prefix>:extra:<client>`` burst tokens.
Both always carry a TTL (see token_bucket.lua). The Lua call spans several keys, so on Redis Cluster
the keys of one call must share a slot; this store targets a single primary (or Sentinel).

`dedicated_connection=True` pins one pooled connection and runs calls on it one at a time. That
suits the coalescing store above it (one batch in flight, no pool checkout per batch); without it,
each call checks a connection out of the pool, so concurrent direct calls run in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from redis.asyncio.connection import AbstractConnection

from app.rate_limiting.lua import LuaScript
from app.rate_limiting.protocol import ExtraTokens, TakeRequest, TakeResult
from app.redis_client import RedisClient

TOKEN_BUCKET = LuaScript("token_bucket.lua")
BURST_GRANT = LuaScript("burst_grant.lua")


class RedisBucketStore:
    """Token buckets and burst grants in Redis, through `token_bucket.lua`."""

    name = "redis"

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "floodgate:rl",
        dedicated_connection: bool = False,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._bucket_prefix = f"{prefix}:tb:".encode()
        self._extra_prefix = f"{prefix}:extra:".encode()
        self._dedicated = dedicated_connection
        self._owns_client = owns_client
        self._pinned: AbstractConnection | None = None
        self._pinned_timeout: float | None = None
        self._pin_lock = asyncio.Lock()

    def bucket_key(self, key: str) -> str:
        return f"{self.prefix}:tb:{key}"

    def extra_key(self, key: str) -> str:
        return f"{self.prefix}:extra:{key}"

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AbstractConnection]:
        pool = self.client.connection_pool
        if not self._dedicated:
            conn = await pool.get_connection()
            try:
                yield conn
            finally:
                await pool.release(conn)
            return
        async with self._pin_lock:
            yield self._pinned or await self._pin()  # a broken connection reconnects on send

    async def _pin(self) -> AbstractConnection:
        """Check one connection out of the pool for good (call with `_pin_lock` held)."""
        conn: AbstractConnection = await self.client.connection_pool.get_connection()
        self._pinned_timeout = conn.socket_timeout
        # The caller (the coalescing store) bounds every call with its own deadline; redis-py's
        # socket timeout would add a task and a timer to every send and read.
        conn.socket_timeout = None
        self._pinned = conn
        return conn

    def encode_take(self, requests: Sequence[TakeRequest]) -> bytes:
        """The EVALSHA of token_bucket.lua for `requests`, RESP-encoded in one pass.

        Written out by hand because it runs for every check: a generic encoder's per-argument
        type dispatch cost more than the rest of the check together.
        """
        bucket_prefix, extra_prefix = self._bucket_prefix, self._extra_prefix
        keys: list[bytes] = []
        args: list[bytes] = []
        for request in requests:
            key = request.key.encode()
            bucket, extra = bucket_prefix + key, extra_prefix + key
            keys.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(bucket), bucket, len(extra), extra))
            capacity, window, cost = (
                b"%d" % request.capacity, b"%d" % request.window_ms, b"%d" % request.cost
            )
            args.append(
                b"$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                % (len(capacity), capacity, len(window), window, len(cost), cost)
            )
        header = TOKEN_BUCKET.evalsha_header(2 * len(requests), 3 * len(requests))
        return header + b"".join(keys) + b"".join(args)

    async def take(self, requests: Sequence[TakeRequest]) -> list[TakeResult]:
        payload = self.encode_take(requests)
        if self._dedicated:  # the hot path: no context-manager frames around one round trip
            async with self._pin_lock:
                conn = self._pinned or await self._pin()
                reply = await TOKEN_BUCKET.run_encoded(conn, payload)
        else:
            async with self._connection() as conn:
                reply = await TOKEN_BUCKET.run_encoded(conn, payload)
        return parse_take_reply(reply, len(requests))

    async def grant_extra(self, key: str, tokens: int, ttl_ms: int) -> ExtraTokens:
        async with self._connection() as conn:
            total, ttl = await BURST_GRANT.run(conn, [self.extra_key(key)], [tokens, ttl_ms])
        return ExtraTokens(tokens=int(total), ttl_ms=int(ttl))

    async def extra(self, key: str) -> ExtraTokens:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.extra_key(key))
            pipe.pttl(self.extra_key(key))
            raw, ttl = await pipe.execute()
        if raw is None or int(ttl) <= 0:
            return ExtraTokens(tokens=0, ttl_ms=0)
        return ExtraTokens(tokens=int(raw), ttl_ms=int(ttl))

    async def revoke_extra(self, key: str) -> None:
        await self.client.delete(self.extra_key(key))

    async def start(self) -> None:
        await TOKEN_BUCKET.register(self.client)
        await BURST_GRANT.register(self.client)

    async def ping(self) -> None:
        await self.client.ping()

    async def aclose(self) -> None:
        async with self._pin_lock:
            if self._pinned is not None:
                self._pinned.socket_timeout = self._pinned_timeout
                await self.client.connection_pool.release(self._pinned)
                self._pinned = None
        if self._owns_client:
            await self.client.aclose()  # type: ignore[attr-defined, unused-ignore]


def parse_take_reply(reply: bytes | str, expected: int) -> list[TakeResult]:
    """Decode token_bucket.lua's "now_ms (allowed remaining retry full)*" string."""
    fields = list(map(int, reply.split()))
    if len(fields) != 1 + 4 * expected:
        raise ValueError(f"token_bucket.lua returned {len(fields)} fields for {expected} buckets")
    now_ms = fields[0]
    values = iter(fields[1:])
    quads = zip(values, values, values, values, strict=True)
    return [
        TakeResult(allowed == 1, remaining, retry_ms, full_ms, now_ms)
        for allowed, remaining, retry_ms, full_ms in quads
    ]
