"""Fixtures for the rate-limiting tests: every bucket store, real Redis clients, outages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.protocol import BucketStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_config import RedisConfig
from app.redis_client import RedisClient
from tests.support.redis_server import RedisServer, running_redis

STORE_KINDS = ["memory", "redis", "redis-coalescing"]


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
        return RedisBucketStore(client, prefix=prefix)
    inner = RedisBucketStore(client, prefix=prefix, dedicated_connection=True)
    return CoalescingBucketStore(inner, timeout=2.0)


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
