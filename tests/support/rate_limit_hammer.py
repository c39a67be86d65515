"""A separate process that hammers one rate-limit key; used by the multi-process exactness test.

Run: python -m tests.support.rate_limit_hammer URL PREFIX KEY LIMIT CLIENTS ATTEMPTS MODE LOOP
(MODE: direct | coalescing; LOOP: asyncio | uvloop). It prints "ready", waits for a line on stdin
(so every process starts together), runs CLIENTS concurrent tasks of ATTEMPTS checks each, and
prints the number admitted.
"""

from __future__ import annotations

import asyncio
import sys

import uvloop

from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.failure import FailurePolicy
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.protocol import BucketStore
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.redis_config import RedisConfig


async def main(url: str, prefix: str, key: str, limit: int, clients: int, attempts: int,
               mode: str) -> None:
    client = RedisConfig(url, timeout_seconds=5.0).build()
    store: BucketStore
    if mode == "coalescing":
        store = CoalescingBucketStore(
            RedisBucketStore(client, prefix=prefix, deadline_seconds=2.5)
        )
    else:
        store = RedisBucketStore(client, prefix=prefix, deadline_seconds=5.0)
    limiter = TokenBucketRateLimiter(
        store, limit=limit, window_seconds=24 * 3600, failure=FailurePolicy(timeout_seconds=5.0)
    )
    await limiter.start()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    async def one_client() -> int:
        admitted = 0
        for _ in range(attempts):
            decision = await limiter.check(key)
            if decision.degraded:
                raise RuntimeError("backend failed during the hammer run")
            admitted += decision.allowed
        return admitted

    results = await asyncio.gather(*(one_client() for _ in range(clients)))
    print(sum(results), flush=True)
    await limiter.aclose()
    await client.aclose()


if __name__ == "__main__":
    url, prefix, key, limit, clients, attempts, mode, loop = sys.argv[1:9]
    run = uvloop.run if loop == "uvloop" else asyncio.run
    run(main(url, prefix, key, int(limit), int(clients), int(attempts), mode))
