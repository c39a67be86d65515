"""RedisConfig: settings in, a working client on a bounded pool out."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import BlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from app.config import Settings
from app.rate_limiting.redis_config import RedisConfig, RedisNotConfiguredError
from tests.support.redis_server import RedisServer


async def test_builds_a_client_on_a_bounded_pool(redis_server: RedisServer) -> None:
    settings = Settings(redis_url=redis_server.url, redis_timeout_seconds=0.2)
    config = RedisConfig.from_settings(settings, max_connections=2)
    assert (config.url, config.max_connections, config.timeout_seconds) == (
        redis_server.url, 2, 0.2)
    client = config.build()
    try:
        assert await client.ping()
        pool = client.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        held = [await pool.get_connection() for _ in range(2)]
        with pytest.raises(RedisConnectionError):  # a third waits 0.2 s, then gives up
            await pool.get_connection()
        for conn in held:
            await pool.release(conn)
        await asyncio.wait_for(client.ping(), 1)
    finally:
        await client.aclose()


def test_unset_url_is_a_clear_error() -> None:
    with pytest.raises(RedisNotConfiguredError, match="REDIS_URL"):
        RedisConfig.from_settings(Settings(redis_url=None))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"max_connections": 0}, "max_connections"), ({"timeout_seconds": 0}, "timeouts")],
)
def test_bad_values_are_refused(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RedisConfig("redis://127.0.0.1:1/0", **kwargs)  # type: ignore[arg-type]


async def test_closing_the_client_closes_its_connections(redis_server: RedisServer) -> None:
    client = RedisConfig(redis_server.url).build()
    await client.ping()
    [conn] = client.connection_pool._available_connections
    assert conn.is_connected
    await client.aclose()
    assert not conn.is_connected
