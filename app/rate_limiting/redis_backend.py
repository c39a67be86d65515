"""Redis bucket store: one atomic Lua call per `take`, shared by every app instance.

Keys (with the configurable prefix, default ``floodgate:rl``):
``<prefix>:tb:<client>`` the string "<tokens> <at_ms>" and ``<prefix>:extra:<client>`` burst tokens.
Both always carry a TTL (see token_bucket.lua). The Lua call spans several keys, so on Redis Cluster
the keys of one call must share a slot; this store targets a single primary (or Sentinel).

Checks (`take`) and health pings go over the store's own `PipelinedConnection` to the server the
redis-py client points at: no pool checkout per check, concurrent checks pipelined on one socket,
each answered or failed within `deadline_seconds`. Burst-grant administration, which is rare,
uses the redis-py client.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.rate_limiting.lua import LuaScript
from app.rate_limiting.protocol import ExtraTokens, TakeRequest, TakeResult
from app.rate_limiting.redis_connection import PipelinedConnection
from app.rate_limiting.redis_endpoint import RedisEndpoint
from app.rate_limiting.resp import ReplyError
from app.redis_client import RedisClient

TOKEN_BUCKET = LuaScript("token_bucket.lua")
BURST_GRANT = LuaScript("burst_grant.lua")
PING = b"*1\r\n$4\r\nPING\r\n"
_MAX_ENCODED_NUMBERS = 64


class RedisBucketStore:
    """Token buckets and burst grants in Redis, through `token_bucket.lua`."""

    name = "redis"

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "floodgate:rl",
        deadline_seconds: float = 1.0,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._bucket_prefix = f"{prefix}:tb:".encode()
        self._extra_prefix = f"{prefix}:extra:".encode()
        self._owns_client = owns_client
        self._encoded_numbers: dict[tuple[int, int, int], bytes] = {}
        # Raises here, at build time, for a client whose options our connection cannot honour.
        self.connection = PipelinedConnection(
            RedisEndpoint.of_client(client), reply_timeout=deadline_seconds
        )
        self.deadline_seconds = deadline_seconds  # `take` answers or fails within this

    def bucket_key(self, key: str) -> str:
        return f"{self.prefix}:tb:{key}"

    def extra_key(self, key: str) -> str:
        return f"{self.prefix}:extra:{key}"

    def encode_take(self, requests: Sequence[TakeRequest]) -> bytes:
        """The EVALSHA of token_bucket.lua for `requests`, RESP-encoded in one pass.

        Written out by hand because it runs for every check: a generic encoder's per-argument
        type dispatch cost more than the rest of the check together. The three numbers of a
        request are nearly always those of the previous one (same limiter), so their encoding is
        reused from a small table.
        """
        bucket_prefix, extra_prefix = self._bucket_prefix, self._extra_prefix
        bucket_extra, extra_extra = len(bucket_prefix), len(extra_prefix)
        numbers = self._encoded_numbers
        keys: list[bytes] = []
        args: list[bytes] = []
        for key, capacity, window_ms, cost in requests:
            raw = key.encode()
            size = len(raw)
            keys.append(b"$%d\r\n%s%s\r\n$%d\r\n%s%s\r\n" % (
                size + bucket_extra, bucket_prefix, raw, size + extra_extra, extra_prefix, raw
            ))
            encoded = numbers.get((capacity, window_ms, cost))
            if encoded is None:
                encoded = _encode_numbers(capacity, window_ms, cost)
                if len(numbers) >= _MAX_ENCODED_NUMBERS:  # throttled capacities, odd costs
                    numbers.clear()
                numbers[capacity, window_ms, cost] = encoded
            args.append(encoded)
        count = len(requests)
        return TOKEN_BUCKET.evalsha_header(2 * count, 3 * count) + b"".join(keys) + b"".join(args)

    async def take(self, requests: Sequence[TakeRequest]) -> list[TakeResult]:
        payload = self.encode_take(requests)
        connection = self.connection
        started = connection.clock()
        try:  # LuaScript.run_pipelined, inlined: one coroutine frame less per check
            reply = await connection.execute(payload, started)
        except ReplyError as error:
            reply = await TOKEN_BUCKET.after_noscript(connection, payload, error, started)
        return parse_take_reply(reply, len(requests))

    async def grant_extra(self, key: str, tokens: int, ttl_ms: int) -> ExtraTokens:
        pool = self.client.connection_pool
        conn = await pool.get_connection()
        try:
            total, ttl = await BURST_GRANT.run(conn, [self.extra_key(key)], [tokens, ttl_ms])
        finally:
            await pool.release(conn)
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
        """Register the scripts and open the connection, so the first check pays for neither."""
        await TOKEN_BUCKET.register(self.client)
        await BURST_GRANT.register(self.client)
        await self.connection.execute(PING)

    async def ping(self) -> None:
        """PING over the checks' own connection (reconnecting it if it was lost)."""
        await self.connection.execute(PING)

    async def aclose(self) -> None:
        await self.connection.aclose()
        if self._owns_client:
            await self.client.aclose()  # type: ignore[attr-defined, unused-ignore]


def _encode_numbers(*values: int) -> bytes:
    """RESP bulk strings for integers (a request's capacity, window and cost)."""
    return b"".join(b"$%d\r\n%s\r\n" % (len(text), text) for text in map(b"%d".__mod__, values))


def parse_take_reply(reply: bytes, expected: int) -> list[TakeResult]:
    """Decode token_bucket.lua's "now_ms (allowed remaining retry full)*" string."""
    fields = reply.split()
    if len(fields) != 1 + 4 * expected:
        raise ValueError(f"token_bucket.lua returned {len(fields)} fields for {expected} buckets")
    if expected == 1:  # a lone check: skip the generic path's iterator set-up
        _, allowed, remaining, retry_ms, full_ms = fields
        return [TakeResult(allowed == b"1", int(remaining), int(retry_ms), int(full_ms),
                           int(fields[0]))]
    numbers = list(map(int, fields))
    now_ms = numbers[0]
    values = iter(numbers[1:])
    quads = zip(values, values, values, values, strict=True)
    return [
        TakeResult(allowed == 1, remaining, retry_ms, full_ms, now_ms)
        for allowed, remaining, retry_ms, full_ms in quads
    ]
