"""Lua scripts shipped as package files, run by SHA with a NOSCRIPT fallback.

Why not `redis.asyncio.Redis.evalsha`: the hot path sends one pre-encoded EVALSHA on a
connection it already holds and reads one reply. That skips redis-py's per-command pool checkout,
retry wrapper and response callbacks, which cost more than the Redis round trip itself on
loopback (bench/rate_limiter.py measures it). Connection set-up, AUTH, TLS, SELECT and
reconnects are still redis-py's.

A script is registered once at start-up (SCRIPT LOAD); if Redis forgets it (restart, failover,
SCRIPT FLUSH) the first EVALSHA answers NOSCRIPT and we load it again on the same connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import NoScriptError

from app.redis_client import RedisClient

Arg = str | bytes | int | float


def _to_bytes(value: Arg) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return repr(value).encode() if isinstance(value, float) else str(value).encode()


def encode_command(parts: Sequence[Arg]) -> bytes:
    """RESP-encode one command (an array of bulk strings)."""
    chunks = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = _to_bytes(part)
        chunks.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(chunks)


class LuaScript:
    """One `.lua` file of this package, addressed by its SHA1."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.source = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
        self.sha = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()
        self._evalsha_prefix = self.sha.encode()

    async def register(self, client: RedisClient) -> None:
        """SCRIPT LOAD once, so the first real call does not pay for NOSCRIPT."""
        await client.script_load(self.source)  # type: ignore[no-untyped-call, unused-ignore]

    def evalsha_header(self, num_keys: int, num_args: int) -> bytes:
        """RESP for ``EVALSHA <sha> <num_keys>``; encoded keys and args follow it."""
        numkeys = b"%d" % num_keys
        return b"*%d\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$%d\r\n%s\r\n" % (
            3 + num_keys + num_args, self._evalsha_prefix, len(numkeys), numkeys
        )

    async def run(
        self, conn: AbstractConnection, keys: Sequence[Arg], args: Sequence[Arg]
    ) -> Any:
        """EVALSHA on `conn`; on NOSCRIPT, load the script on the same connection and retry."""
        payload = encode_command([b"EVALSHA", self._evalsha_prefix, len(keys), *keys, *args])
        return await self.run_encoded(conn, payload)

    async def run_encoded(self, conn: AbstractConnection, payload: bytes) -> Any:
        """Like `run`, with the whole EVALSHA command already encoded (the hot path).

        Cancellation is safe: redis-py disconnects a connection whose reply was not read, so
        nobody reads a stale reply later, and the script itself is atomic on the server.
        """
        try:
            await conn.send_packed_command(payload, check_health=False)
            return await conn.read_response()
        except NoScriptError:
            await conn.send_packed_command(
                encode_command([b"SCRIPT", b"LOAD", self.source]), check_health=False
            )
            await conn.read_response()
            await conn.send_packed_command(payload, check_health=False)
            return await conn.read_response()
