"""Fixtures for the rate-limiting tests: every bucket store, real Redis clients, outages.

The Redis tests run on both event loops the app meets: asyncio's own, and uvloop (what
uvicorn[standard] runs). The limiter's connection is a raw asyncio Protocol, and the two loops
differ in exactly the parts it touches (transports, timers, callbacks).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import pytest
import uvloop

from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.protocol import BucketStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_config import RedisConfig
from app.redis_client import RedisClient
from tests.support.redis_server import RedisServer, running_redis

STORE_KINDS = ["memory", "redis", "redis-coalescing"]
BOTH_LOOPS_MODULES = frozenset(
    {"test_redis_connection", "test_limiter", "test_redis_backend", "test_failure"}
)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Async tests of the Redis paths run twice, ``[asyncio]`` and ``[uvloop]``; the others once,
    on asyncio's loop (a single factory leaves their test ids unchanged)."""
    if item.path.stem not in BOTH_LOOPS_MODULES:
        return {"asyncio": asyncio.new_event_loop}
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[RedisClient]:
    """A client on the session's redis-server (bounded pool, generous timeouts for tests)."""
    client = RedisConfig(redis_server.url, timeout_seconds=2.0).build()
    yield client
    await client.aclose()


@pytest.fixture
def key_prefix() -> str:
    """A prefix of our own per test, so tests sharing one redis-server never collide."""
    return f"test:{uuid.uuid4().hex[:12]}"


def make_store(kind: str, client: RedisClient | None, prefix: str) -> BucketStore:
    if kind == "memory":
        return MemoryBucketStore()
    assert client is not None
    if kind == "redis":
        return RedisBucketStore(client, prefix=prefix, deadline_seconds=2.0)
    return CoalescingBucketStore(RedisBucketStore(client, prefix=prefix, deadline_seconds=2.0))


@pytest.fixture(params=STORE_KINDS)
async def store(
    request: pytest.FixtureRequest, redis_server: RedisServer, key_prefix: str
) -> AsyncIterator[BucketStore]:
    """Each bucket store in turn: the contract suite runs against all of them."""
    client = None
    if request.param != "memory":
        client = RedisConfig(redis_server.url, timeout_seconds=2.0).build()
    built = make_store(request.param, client, key_prefix)
    await built.start()
    yield built
    await built.aclose()
    if client is not None:
        await client.aclose()


@pytest.fixture
def outage_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, to stop or SIGSTOP without disturbing others."""
    with running_redis(tmp_path) as server:
        yield server
