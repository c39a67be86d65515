"""RedisSessionStore against a real redis-server: keys, TTLs, and an index that cannot leak."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from app.scaling.sessions import RedisSessionStore, index_key, session_key

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(redis_server):
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def user() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


class Clock:
    """Only the index's notion of now; Redis key TTLs still run on the real clock."""

    def __init__(self) -> None:
        self.now_ms = 1_000_000_000_000

    def __call__(self) -> int:
        return self.now_ms


async def test_save_and_get_with_the_documented_key_and_ttl(redis, user):
    store = RedisSessionStore(redis, ttl_seconds=24 * 3600)
    saved = await store.save(user, "conn-1", {"room": "alerts", "cursor": 42})

    assert await redis.exists(f"session:{user}:conn-1") == 1
    ttl = await redis.ttl(f"session:{user}:conn-1")
    assert 24 * 3600 - 5 <= ttl <= 24 * 3600
    loaded = await store.get(user, "conn-1")
    assert loaded is not None
    assert loaded.data == {"room": "alerts", "cursor": 42}
    assert abs(loaded.expires_at_ms - saved.expires_at_ms) < 5_000


async def test_active_sessions_lists_only_this_users_live_connections(redis, user):
    store = RedisSessionStore(redis)
    other = f"{user}-other"
    await store.save(user, "a", {"n": 1})
    await store.save(user, "b", {"n": 2})
    await store.save(other, "c", {"n": 3})

    assert sorted(await store.active_connections(user)) == ["a", "b"]
    sessions = await store.active_sessions(user)
    assert sorted((s.connection_id, s.data["n"]) for s in sessions) == [("a", 1), ("b", 2)]


async def test_expired_sessions_disappear_from_key_and_index(redis, user):
    store = RedisSessionStore(redis, ttl_seconds=0.2)
    await store.save(user, "short", {})
    assert await store.active_connections(user) == ["short"]

    await asyncio.sleep(0.35)

    assert await store.get(user, "short") is None
    assert await store.active_connections(user) == []
    assert await redis.zcard(index_key(user)) == 0  # pruned, not just filtered
    assert await redis.exists(index_key(user)) == 0


async def test_index_entries_past_their_expiry_are_never_listed(redis, user):
    clock = Clock()
    store = RedisSessionStore(redis, ttl_seconds=60, clock_ms=clock)
    await store.save(user, "old", {})
    clock.now_ms += 30_000
    await store.save(user, "new", {})
    clock.now_ms += 31_000  # "old" expired, "new" has 29 s left

    assert await store.active_connections(user) == ["new"]
    assert await redis.zrange(index_key(user), 0, -1) == [b"new"]


async def test_refresh_extends_a_live_session_and_refuses_a_dead_one(redis, user):
    clock = Clock()
    store = RedisSessionStore(redis, ttl_seconds=60, clock_ms=clock)
    await store.save(user, "ws", {})
    clock.now_ms += 50_000
    assert await store.refresh(user, "ws") is True
    clock.now_ms += 50_000  # 100 s after save, 50 s after the refresh
    assert await store.active_connections(user) == ["ws"]

    assert await store.refresh(user, "never-saved") is False
    assert await redis.zscore(index_key(user), "never-saved") is None


async def test_delete_removes_key_and_index_entry(redis, user):
    store = RedisSessionStore(redis)
    await store.save(user, "x", {"a": 1})
    assert await store.delete(user, "x") is True
    assert await store.delete(user, "x") is False
    assert await store.get(user, "x") is None
    assert await store.active_connections(user) == []


async def test_index_key_lives_as_long_as_the_newest_session(redis, user):
    store = RedisSessionStore(redis, ttl_seconds=100)
    await store.save(user, "a", {})
    index_ttl = await redis.pttl(index_key(user))
    assert 95_000 < index_ttl <= 100_000


async def test_sessions_are_shared_by_two_store_instances(redis_server, user):
    """Two replicas, two clients: what one saves, the other lists."""
    first, second = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        await RedisSessionStore(first).save(user, "conn", {"replica": "a"})
        sessions = await RedisSessionStore(second).active_sessions(user)
    finally:
        await first.aclose()
        await second.aclose()
    assert [(s.connection_id, s.data) for s in sessions] == [("conn", {"replica": "a"})]


@pytest.mark.parametrize(
    ("user_id", "connection_id", "field"),
    [("a:b", "c", "user"), ("a", "b:c", "connection_id"), ("", "c", "user"),
     ("a", "x" * 129, "connection_id"), ("a b", "c", "user"), ("a", "c\n", "connection_id")],
)
async def test_ids_that_could_collide_or_inject_are_refused(redis, user_id, connection_id, field):
    store = RedisSessionStore(redis)
    with pytest.raises(ValueError, match=field):
        await store.save(user_id, connection_id, {})
    assert await redis.keys("session:a*") == []


def test_key_layout():
    assert session_key("u1", "c1") == "session:u1:c1"
    assert index_key("u1") == "session-index:u1"


def test_ttl_must_be_positive(redis):
    with pytest.raises(ValueError, match="ttl_seconds"):
        RedisSessionStore(redis, ttl_seconds=0)
