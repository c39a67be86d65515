"""Lua scripts shipped as package files, run by SHA with a NOSCRIPT fallback.

Why not `redis.asyncio.Redis.evalsha`: the hot path sends one pre-encoded EVALSHA on the
limiter's own pipelined connection (`run_pipelined`) and reads one reply, skipping redis-py's
per-command pool checkout, retry wrapper and response callbacks, which cost more than the Redis
round trip itself on loopback (bench/rate_limiter.py measures it). Admin scripts (burst grants,
quotas) run on a connection of redis-py's pool (`run`).

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

from app.rate_limiting.redis_connection import PipelinedConnection
from app.rate_limiting.resp import Arg, ReplyError, encode_command
from app.redis_client import RedisClient

__all__ = ["Arg", "LuaScript", "encode_command"]


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
        """EVALSHA on a redis-py connection; on NOSCRIPT, load the script on it and retry.

        Cancellation is safe: redis-py disconnects a connection whose reply was not read, so
        nobody reads a stale reply later, and the script itself is atomic on the server.
        """
        payload = encode_command([b"EVALSHA", self._evalsha_prefix, len(keys), *keys, *args])
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

    async def run_pipelined(self, connection: PipelinedConnection, payload: bytes) -> Any:
        """The encoded EVALSHA on the pipelined connection; on NOSCRIPT, load and retry once."""
        started = connection.clock()
        try:
            return await connection.execute(payload, started)
        except ReplyError as error:
            return await self.after_noscript(connection, payload, error, started)

    async def after_noscript(
        self, connection: PipelinedConnection, payload: bytes, error: ReplyError, started: float
    ) -> Any:
        """The slow path of `run_pipelined` (callers inline its fast path): NOSCRIPT means the
        script did not run, so loading it and sending `payload` again cannot charge twice. Both
        keep the first attempt's deadline (`started`); any other error is raised as it is."""
        if error.code != "NOSCRIPT":
            raise error
        await connection.execute(encode_command([b"SCRIPT", b"LOAD", self.source]), started)
        return await connection.execute(payload, started)
