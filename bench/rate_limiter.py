"""Rate-limit checks per second: Floodgate's limiter against the `limits` library, same Redis.

Claim: at least as fast as `limits` with one client, at least 3x with 32 concurrent clients,
while staying exact. Peers, all on the one redis-server this script starts:

* ours — `build_rate_limiter(settings)` as the app builds it (the default: coalescing store on
  the limiter's pipelined connection), and the direct store (RATE_LIMIT_COALESCE=false);
* limits async (`async+redis://`, implementation="redispy"), fixed and moving window, on the same
  event loop as ours; 32 clients = 32 asyncio tasks;
* limits sync (`redis://`), fixed and moving window; 1 client = the main thread, 32 clients = 32
  threads.

Each client uses its own key with a huge limit, so every check is an admitted write.

Fairness on a shared, noisy machine: a round pairs ours with every peer (peers in shuffled order,
each pair back to back in random order, short slices), and a ratio is taken within each pair
(ours / theirs); the table shows the median over rounds and the worst and best pair. Both event
loops are reported: asyncio's own and uvloop (what uvicorn[standard] runs); limits' async peers
run on the same loop as ours. Latency is per check (p50/p99 over all slices). Run:

    PYTHONPATH=. python bench/rate_limiter.py [--seconds 0.2] [--rounds 10] [--loops asyncio uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop
from limits import RateLimitItemPerMinute
from limits import storage as sync_storage
from limits import strategies as sync_strategies
from limits.aio import storage as async_storage
from limits.aio import strategies as async_strategies

from app.config import Settings
from app.rate_limiting import build_rate_limiter
from tests.support.redis_server import running_redis

HUGE = RateLimitItemPerMinute(10**9)
OURS = "ours (default)"
LOOPS: dict[str, Callable[[Any], Any]] = {"asyncio": asyncio.run, "uvloop": uvloop.run}
GOALS = {1: 1.0, 32: 3.0}


@dataclass
class Slice:
    """One implementation's run for one slice of one round."""

    checks: int
    seconds: float
    latencies: list[float]
    degraded: int = 0

    @property
    def rate(self) -> float:
        return self.checks / self.seconds


@dataclass
class Row:
    name: str
    slices: list[Slice] = field(default_factory=list)

    def rates(self) -> list[float]:
        return [s.rate for s in self.slices]

    def quantile_us(self, q: float) -> float:
        ordered = sorted(value for s in self.slices for value in s.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6


async def run_async(clients: int, seconds: float, check: Callable[[str], Awaitable[Any]]) -> Slice:
    for index in range(clients):  # warm-up: connections, scripts
        await check(f"c{index}")
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(index: int) -> None:
        key = f"c{index}"
        while (started := time.perf_counter()) < deadline:
            await check(key)
            latencies.append(time.perf_counter() - started)

    begun = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return Slice(len(latencies), time.perf_counter() - begun, latencies)


def run_threads(clients: int, seconds: float, check: Callable[[str], Any]) -> Slice:
    for index in range(clients):
        check(f"c{index}")
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        key, mine = f"c{index}", []
        while (started := time.perf_counter()) < deadline:
            check(key)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    begun = time.perf_counter()
    if clients == 1:  # its best case: no thread hand-off at all
        client(0)
    else:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
    return Slice(len(latencies), time.perf_counter() - begun, latencies)


async def ours(url: str, coalesce: bool, clients: int, seconds: float, prefix: str) -> Slice:
    settings = Settings(
        redis_url=url, rate_limit_requests=10**9, rate_limit_coalesce=coalesce,
        redis_timeout_seconds=1.0, rate_limit_key_prefix=prefix,
    )
    limiter = build_rate_limiter(settings, max_connections=64)
    await limiter.start()
    degraded = 0

    async def check(key: str) -> bool:
        nonlocal degraded
        decision = await limiter.check(key)
        degraded += decision.degraded
        return decision.allowed

    result = await run_async(clients, seconds, check)
    result.degraded = degraded
    await limiter.aclose()
    return result


async def limits_async(url: str, moving: bool, clients: int, seconds: float, prefix: str) -> Slice:
    store = async_storage.RedisStorage(f"async+{url}", implementation="redispy", key_prefix=prefix)
    limiter = (
        async_strategies.MovingWindowRateLimiter(store)
        if moving
        else async_strategies.FixedWindowRateLimiter(store)
    )
    return await run_async(clients, seconds, lambda key: limiter.hit(HUGE, key))


def limits_sync(url: str, moving: bool, clients: int, seconds: float, prefix: str) -> Slice:
    store = sync_storage.RedisStorage(url, key_prefix=prefix)
    limiter = (
        sync_strategies.MovingWindowRateLimiter(store)
        if moving
        else sync_strategies.FixedWindowRateLimiter(store)
    )
    return run_threads(clients, seconds, lambda key: limiter.hit(HUGE, key))


def scenarios(url: str, loop: str, clients: int, seconds: float) -> dict[str, Callable[[], Slice]]:
    """Every implementation, ready to run one slice (async ones on `loop`)."""
    run = LOOPS[loop]

    def on_loop(make: Callable[..., Awaitable[Slice]], flag: bool) -> Callable[[], Slice]:
        prefix = f"bench:{loop}:{clients}:{make.__name__}:{flag}"  # no two share a key
        return lambda: run(make(url, flag, clients, seconds, prefix))

    def threaded(moving: bool) -> Callable[[], Slice]:
        prefix = f"bench:{loop}:{clients}:sync:{moving}"
        return lambda: limits_sync(url, moving, clients, seconds, prefix)

    return {
        OURS: on_loop(ours, True),
        "ours direct": on_loop(ours, False),
        "limits async fixed": on_loop(limits_async, False),
        "limits async moving": on_loop(limits_async, True),
        "limits sync fixed": threaded(False),
        "limits sync moving": threaded(True),
    }


@dataclass
class Table:
    """One (loop, clients) table: every row's slices and, per peer, its within-pair ratios."""

    ours: Row
    peers: list[Row]
    ratios: dict[str, list[float]]


def measure(url: str, loop: str, clients: int, seconds: float, rounds: int) -> Table:
    """Each round pairs ours with every peer, back to back in random order; a pair's ratio is
    ours / theirs measured seconds apart at most, so machine noise mostly cancels."""
    runs = scenarios(url, loop, clients, seconds)
    run_ours = runs.pop(OURS)
    table = Table(Row(OURS), [Row(name) for name in runs], {name: [] for name in runs})
    rng = random.Random(f"{loop}{clients}")
    for _ in range(rounds):
        peers = list(table.peers)
        rng.shuffle(peers)
        for peer in peers:
            if rng.random() < 0.5:
                ours_slice, their_slice = run_ours(), runs[peer.name]()
            else:
                their_slice, ours_slice = runs[peer.name](), run_ours()
            table.ours.slices.append(ours_slice)
            peer.slices.append(their_slice)
            table.ratios[peer.name].append(ours_slice.rate / their_slice.rate)
    return table


async def exactness(url: str, coalesce: bool) -> int:
    """32 clients x 20 checks on ONE key with limit 100: admitted must be exactly 100."""
    settings = Settings(redis_url=url, rate_limit_requests=100, rate_limit_window_seconds=86400,
                        redis_timeout_seconds=5.0, rate_limit_coalesce=coalesce,
                        rate_limit_key_prefix=f"bench:exact:{os.urandom(4).hex()}")
    limiter = build_rate_limiter(settings)
    await limiter.start()

    async def client() -> int:
        return sum([(await limiter.check("one-key")).allowed for _ in range(20)])

    admitted = sum(await asyncio.gather(*(client() for _ in range(32))))
    await limiter.aclose()
    return admitted


def report(loop: str, clients: int, table: Table) -> bool:
    """Print one table; True when the median ratio meets the goal against every limits peer."""
    print(f"\n{loop}, {clients} client(s): median checks/s per slice; ratio = ours (default) / "
          f"this within a pair, median [worst..best pair]")
    print(f"{'implementation':<22}{'checks/s':>10}{'p50 µs':>9}{'p99 µs':>9}   ratio")
    for row in [table.ours, *table.peers]:
        spread = table.ratios.get(row.name, [1.0])
        print(f"{row.name:<22}{statistics.median(row.rates()):>10,.0f}"
              f"{row.quantile_us(0.5):>9.0f}{row.quantile_us(0.99):>9.0f}"
              f"   {statistics.median(spread):.2f}x [{min(spread):.2f}..{max(spread):.2f}]")
    goal = GOALS[clients]
    limits_peers = [row.name for row in table.peers if row.name.startswith("limits")]
    strongest = min(limits_peers, key=lambda name: statistics.median(table.ratios[name]))
    spread = table.ratios[strongest]
    median = statistics.median(spread)
    met = median >= goal
    print(f"-> vs the strongest peer ({strongest}): median {median:.2f}x, worst pair "
          f"{min(spread):.2f}x — {'meets' if met else 'MISSES'} the {goal:g}x goal")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one slice")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per table")
    parser.add_argument("--loops", nargs="+", choices=sorted(LOOPS), default=["asyncio", "uvloop"])
    args = parser.parse_args()
    # Give redis-py's asyncio reader (limits async) its best case from the first slice: it reads
    # into a fresh 256 KiB bytes per reply, which glibc serves by mmap+munmap until a freed large
    # block raises its dynamic mmap threshold — something a long-running process soon does. (Our
    # connection reads into a buffer of its own, so this changes nothing for ours.)
    del_me = bytes(4 << 20)
    del del_me
    verdicts: list[str] = []
    exact: list[str] = []
    degraded = 0
    with running_redis(Path(tempfile.mkdtemp(prefix="bench-redis-"))) as server:
        print(f"redis-server on loopback (port {server.port}); {args.rounds} rounds per table, "
              f"each pairing ours with every peer in {args.seconds:g} s slices; "
              f"Python {sys.version.split()[0]}; "
              f"load average {os.getloadavg()[0]:.1f} at start")
        for loop in args.loops:
            for clients in GOALS:
                table = measure(server.url, loop, clients, args.seconds, args.rounds)
                degraded += sum(s.degraded for s in table.ours.slices)
                degraded += sum(s.degraded for row in table.peers for s in row.slices)
                met = report(loop, clients, table)
                verdicts.append(f"{loop}/{clients}: {'meets' if met else 'MISSES'}")
            for coalesce in (True, False):
                admitted = LOOPS[loop](exactness(server.url, coalesce))
                mode = "coalescing" if coalesce else "direct"
                exact.append(f"{loop}/{mode} {admitted}{'' if admitted == 100 else ' NOT EXACT'}")
    print(f"\ngoals: {'; '.join(verdicts)}")
    print(f"exactness (32 clients x 20 checks, one key, limit 100 -> must admit 100): "
          f"{'; '.join(exact)}")
    print(f"degraded (failed-open) checks of ours: {degraded}; load average at end "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
