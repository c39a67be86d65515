"""Lua scripts ship with the package and are addressed by the SHA Redis computes for them."""

from __future__ import annotations

from app.rate_limiting.lua import LuaScript
from app.redis_client import RedisClient


async def test_local_sha_matches_redis(redis_client: RedisClient) -> None:
    for name in ("token_bucket.lua", "burst_grant.lua", "quota.lua"):
        script = LuaScript(name)
        assert "redis.call" in script.source
        assert await redis_client.script_load(script.source) == script.sha
