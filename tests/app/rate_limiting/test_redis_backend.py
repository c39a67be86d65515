"""Redis store specifics: Redis time, NOSCRIPT recovery, per-key errors, cancellation, processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.lua import encode_command
from app.rate_limiting.protocol import BucketStore, TakeRequest
from app.rate_limiting.redis_backend import TOKEN_BUCKET, RedisBucketStore, parse_take_reply
from app.redis_client import RedisClient
from tests.support.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[3]


async def redis_time_ms(client: RedisClient) -> int:
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_time_comes_from_redis_not_from_the_app(
    redis_client: RedisClient, key_prefix: str
) -> None:
    store = RedisBucketStore(redis_client, prefix=key_prefix)
    before = await redis_time_ms(redis_client)
    [result] = await store.take([TakeRequest("k", 10, 60_000)])
    after = await redis_time_ms(redis_client)
    assert before <= result.now_ms <= after


async def test_a_flushed_script_cache_is_reloaded_on_noscript(
    redis_client: RedisClient, key_prefix: str
) -> None:
    store = RedisBucketStore(redis_client, prefix=key_prefix)
    await store.start()
    assert (await redis_client.script_exists(TOKEN_BUCKET.sha)) == [True]
    await redis_client.script_flush()
    [result] = await store.take([TakeRequest("k", 10, 60_000)])
    assert result.allowed
    assert (await redis_client.script_exists(TOKEN_BUCKET.sha)) == [True]
    await store.aclose()


@pytest.mark.parametrize("coalescing", [False, True], ids=["direct", "coalescing"])
async def test_pipelined_checks_that_meet_noscript_are_each_charged_exactly_once(
    redis_client: RedisClient, key_prefix: str, coalescing: bool
) -> None:
    inner = RedisBucketStore(redis_client, prefix=key_prefix, deadline_seconds=2.0)
    store: BucketStore = CoalescingBucketStore(inner) if coalescing else inner
    limiter = TokenBucketRateLimiter(store, limit=50, window_seconds=3600)
    await limiter.start()
    await redis_client.script_flush()  # every check in flight below first meets NOSCRIPT
    decisions = await asyncio.gather(*(limiter.check("flushed") for _ in range(80)))
    assert not any(d.degraded for d in decisions)
    assert sum(d.allowed for d in decisions) == 50
    assert inner.connection.connections_opened == 1  # an error reply is no reason to reconnect
    await limiter.aclose()


async def test_foreign_values_at_our_keys_count_as_full_buckets_never_as_errors(
    redis_client: RedisClient, key_prefix: str
) -> None:
    store = RedisBucketStore(redis_client, prefix=key_prefix)
    await redis_client.hset(store.bucket_key("hash"), "x", "1")
    await redis_client.set(store.bucket_key("junk"), "abc def")
    await redis_client.set(store.extra_key("junk"), "not a number")
    results = await store.take(
        [TakeRequest("ok", 5, 60_000), TakeRequest("hash", 5, 60_000),
         TakeRequest("junk", 5, 60_000)]
    )
    assert [(r.allowed, r.remaining) for r in results] == [(True, 4)] * 3
    assert await redis_client.type(store.bucket_key("hash")) == b"string"  # ours again
    assert await redis_client.pttl(store.bucket_key("hash")) > 0


def test_replies_that_do_not_match_the_request_count_are_rejected() -> None:
    assert len(parse_take_reply(b"1000 1 4 0 12000", 1)) == 1
    with pytest.raises(ValueError, match="fields"):
        parse_take_reply(b"1000 1 4 0 12000", 2)


def test_a_batch_is_encoded_as_one_evalsha_of_every_bucket(redis_client: RedisClient) -> None:
    store = RedisBucketStore(redis_client, prefix="p")
    # more distinct (capacity, window, cost) triples than the encoding table keeps
    requests = [TakeRequest(f"k{i}", 10 + i % 70, 60_000, 1 + i % 3) for i in range(200)]
    keys = [key for r in requests for key in (f"p:tb:{r.key}", f"p:extra:{r.key}")]
    args = [number for r in requests for number in (r.capacity, r.window_ms, r.cost)]
    expected = encode_command([b"EVALSHA", TOKEN_BUCKET.sha, len(keys), *keys, *args])
    assert store.encode_take(requests) == expected
    assert store.encode_take(requests[:1]) == encode_command(
        [b"EVALSHA", TOKEN_BUCKET.sha, 2, "p:tb:k0", "p:extra:k0", 10, 60_000, 1]
    )


def test_commands_are_resp_encoded() -> None:
    assert encode_command([b"EVALSHA", "abc", 1, "k", 2.5]) == (
        b"*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\nk\r\n$3\r\n2.5\r\n"
    )


@pytest.mark.parametrize("coalescing", [False, True], ids=["direct", "coalescing"])
async def test_cancelled_checks_never_leave_a_key_without_expiry(
    redis_client: RedisClient, key_prefix: str, coalescing: bool
) -> None:
    store: BucketStore = RedisBucketStore(redis_client, prefix=key_prefix, deadline_seconds=2.0)
    if coalescing:
        store = CoalescingBucketStore(store)
    limiter = TokenBucketRateLimiter(store, limit=1000, window_seconds=3600)
    for round_ in range(20):
        tasks = [
            asyncio.create_task(limiter.check(f"client-{i % 40}")) for i in range(200)
        ]
        for _ in range(round_ % 4):  # cancel at different points of the flight
            await asyncio.sleep(0)
        for task in tasks[::2]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await limiter.check("client-0")  # the connection still works after all that
    inner = store.inner if isinstance(store, CoalescingBucketStore) else store
    assert isinstance(inner, RedisBucketStore)
    assert inner.connection.connections_opened == 1  # cancelled callers never cost a reconnect
    keys = [key async for key in redis_client.scan_iter(match=f"{key_prefix}:*")]
    assert keys, "the checks wrote buckets"
    ttls = [await redis_client.pttl(key) for key in keys]
    assert all(ttl > 0 for ttl in ttls), dict(zip(keys, ttls, strict=True))


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("mode", ["direct", "coalescing"])
def test_several_processes_on_one_key_admit_exactly_the_limit(
    redis_server: RedisServer, key_prefix: str, mode: str, loop: str
) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.rate_limit_hammer", redis_server.url,
             key_prefix, "shared-key", "100", "32", "10", mode, loop],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for _ in range(4)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:  # all connected: start them together
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        admitted = [int(process.communicate(timeout=120)[0].strip()) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert sum(admitted) == 100  # 4 processes x 32 clients x 10 attempts = 1280 tries
    assert all(process.returncode == 0 for process in processes)
