"""Rate-limit checks per second: Floodgate's limiter against the `limits` library, same Redis.

Claim: at least as fast as `limits` with one client, at least 3x with 32 concurrent clients,
while staying exact. Peers, all on the redis-server this script starts:

* ours — `build_rate_limiter(settings)` as the app builds it (coalescing Redis store), and the
  direct store (one EVALSHA per check, RATE_LIMIT_COALESCE=false), called through `check()`;
* limits async (`async+redis://`, implementation="redispy": the same client library as ours),
  fixed window and moving window; 32 clients = 32 asyncio tasks;
* limits sync (`redis://`), fixed window and moving window; 32 clients = 32 threads.

Each client uses its own key with a huge limit, so every check is an admitted write. Latency is
per check (p50/p99), measured around each call. Run:

    PYTHONPATH=. python bench/rate_limiter.py [--seconds 0.25] [--rounds 12] [--loop asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

from limits import RateLimitItemPerMinute
from limits import storage as sync_storage
from limits import strategies as sync_strategies
from limits.aio import storage as async_storage
from limits.aio import strategies as async_strategies

from app.config import Settings
from app.rate_limiting import build_rate_limiter
from tests.support.redis_server import running_redis

HUGE = RateLimitItemPerMinute(10**9)


@dataclass
class Result:
    name: str
    clients: int
    checks: int
    seconds: float
    latencies: list[float]
    degraded: int = 0

    @property
    def rate(self) -> float:
        return self.checks / self.seconds

    def quantile_us(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6


async def run_async(
    name: str, clients: int, seconds: float, check: Callable[[str], Awaitable[bool]]
) -> Result:
    for index in range(clients):  # warm-up: connections, scripts
        await check(f"{name}-{index}")
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(index: int) -> None:
        key = f"{name}-{index}"
        while (started := time.perf_counter()) < deadline:
            await check(key)
            latencies.append(time.perf_counter() - started)

    begun = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return Result(name, clients, len(latencies), time.perf_counter() - begun, latencies)


def run_threads(name: str, clients: int, seconds: float, check: Callable[[str], bool]) -> Result:
    for index in range(clients):
        check(f"{name}-{index}")
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        key, mine = f"{name}-{index}", []
        while (started := time.perf_counter()) < deadline:
            check(key)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    begun = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return Result(name, clients, len(latencies), time.perf_counter() - begun, latencies)


async def ours(url: str, coalesce: bool, clients: int, seconds: float) -> Result:
    settings = Settings(
        redis_url=url, rate_limit_requests=10**9, rate_limit_coalesce=coalesce,
        redis_timeout_seconds=1.0, rate_limit_key_prefix=f"bench:{coalesce}:{clients}",
    )
    limiter = build_rate_limiter(settings, max_connections=64)
    await limiter.start()
    degraded = 0

    async def check(key: str) -> bool:
        nonlocal degraded
        decision = await limiter.check(key)
        degraded += decision.degraded
        return decision.allowed

    name = "ours coalescing" if coalesce else "ours direct"
    result = await run_async(name, clients, seconds, check)
    result.degraded = degraded
    await limiter.aclose()
    return result


async def limits_async(url: str, moving: bool, clients: int, seconds: float) -> Result:
    store = async_storage.RedisStorage(f"async+{url}", implementation="redispy")
    limiter = (
        async_strategies.MovingWindowRateLimiter(store)
        if moving
        else async_strategies.FixedWindowRateLimiter(store)
    )
    name = f"limits async {'moving' if moving else 'fixed'}"
    return await run_async(name, clients, seconds, lambda key: limiter.hit(HUGE, key))


def limits_sync(url: str, moving: bool, clients: int, seconds: float) -> Result:
    store = sync_storage.RedisStorage(url)
    limiter = (
        sync_strategies.MovingWindowRateLimiter(store)
        if moving
        else sync_strategies.FixedWindowRateLimiter(store)
    )
    name = f"limits sync {'moving' if moving else 'fixed'}"
    return run_threads(name, clients, seconds, lambda key: limiter.hit(HUGE, key))


async def exactness(url: str) -> int:
    """32 clients x 20 checks on ONE key with limit 100 through the coalescing path."""
    settings = Settings(redis_url=url, rate_limit_requests=100, rate_limit_window_seconds=86400,
                        redis_timeout_seconds=5.0, rate_limit_key_prefix="bench:exact")
    limiter = build_rate_limiter(settings)
    await limiter.start()

    async def client() -> int:
        return sum([(await limiter.check("one-key")).allowed for _ in range(20)])

    admitted = sum(await asyncio.gather(*(client() for _ in range(32))))
    await limiter.aclose()
    return admitted


def print_table(results: list[Result]) -> None:
    ours_by_clients = {r.clients: r for r in results if r.name == "ours coalescing"}
    print(f"{'implementation':<22}{'clients':>8}{'checks/s':>11}{'p50 µs':>9}{'p99 µs':>9}"
          f"{'ours/this':>11}")
    for r in results:
        ratio = ours_by_clients[r.clients].rate / r.rate
        print(f"{r.name:<22}{r.clients:>8}{r.rate:>11,.0f}{r.quantile_us(0.5):>9.0f}"
              f"{r.quantile_us(0.99):>9.0f}{ratio:>10.2f}x")


def combine_rounds(rounds: list[Result]) -> Result:
    """All rounds of one row together: checks and seconds summed, latencies pooled.

    Rows take turns in short slices, so a noisy moment on a shared machine lands on every row
    alike instead of deciding a ratio.
    """
    first = rounds[0]
    return Result(
        first.name, first.clients, sum(r.checks for r in rounds), sum(r.seconds for r in rounds),
        [value for r in rounds for value in r.latencies], sum(r.degraded for r in rounds),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.25, help="length of one slice")
    parser.add_argument("--rounds", type=int, default=12, help="slices per row, interleaved")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    runner: Callable[[Any], Any] = asyncio.run
    if args.loop == "uvloop":
        import uvloop

        runner = uvloop.run

    with running_redis(Path(tempfile.mkdtemp(prefix="bench-redis-"))) as server:
        url, secs = server.url, args.seconds

        def in_loop(make: Callable[..., Awaitable[Result]], *params: Any) -> Callable[[], Result]:
            return lambda: cast(Result, runner(make(*params)))

        scenarios: list[Callable[[], Result]] = []
        for c in (1, 32):
            scenarios += [
                in_loop(ours, url, True, c, secs),
                in_loop(ours, url, False, c, secs),
                in_loop(limits_async, url, False, c, secs),
                partial(limits_sync, url, False, c, secs),
                in_loop(limits_async, url, True, c, secs),
                partial(limits_sync, url, True, c, secs),
            ]
        rounds: list[list[Result]] = [[] for _ in scenarios]
        for _ in range(args.rounds):  # interleaved, so a noisy moment hits every row alike
            for index, scenario in enumerate(scenarios):
                rounds[index].append(scenario())
        results = [combine_rounds(r) for r in rounds]
        admitted = runner(exactness(url))

    print(f"redis-server on loopback; event loop: {args.loop}; each row {args.rounds} interleaved "
          f"slices of {secs:g} s (summed); Python {sys.version.split()[0]}")
    print_table(results)
    for clients, goal in ((1, 1.0), (32, 3.0)):
        ours_rate = next(
            r.rate for r in results if r.name == "ours coalescing" and r.clients == clients
        )
        best = max((r for r in results if r.name.startswith("limits") and r.clients == clients),
                   key=lambda r: r.rate)
        ratio = ours_rate / best.rate
        verdict = "meets" if ratio >= goal else "MISSES"
        print(f"{clients:>2} client(s): ours {ours_rate:,.0f}/s vs best limits ({best.name}) "
              f"{best.rate:,.0f}/s = {ratio:.2f}x — {verdict} the {goal:g}x goal")
    print(f"degraded (failed-open) checks of ours during the runs: "
          f"{sum(r.degraded for r in results)}")
    print(f"exactness: 32 clients x 20 checks on one key, limit 100 -> admitted {admitted}"
          f" ({'exact' if admitted == 100 else 'NOT EXACT'})")


if __name__ == "__main__":
    main()
