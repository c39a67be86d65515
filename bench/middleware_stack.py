"""Cost of Floodgate's middleware stack against a bare FastAPI app, with peers measured in the
same run: prometheus-fastapi-instrumentator (metrics) and slowapi (rate limiting).
"ids + metrics" is app/monitoring's own share; "floodgate stack" is everything create_app
installs (correlation id, metrics, rate limit with the in-memory store, validation: one
`RuntimeMiddleware` layer); "4 layers stacked" is the same work as four middlewares; with
--redis-url, "floodgate + Redis" is the same with the Redis limiter, and the Redis round trips
per request are counted with MONITOR on the server.

Goals (the issue): >= 0.85x the bare app's throughput with the in-memory limiter, < 300 us added
per request (the seed's stack quoted ~1.8 ms), with Redis exactly one round trip per request.

Measures, each with rounds interleaved across the variants (a load spike elsewhere on the shared
machine hits every variant alike) and the median round reported:
* in-process, raw ASGI driver: calls `app(scope, receive, send)` in a loop, CPU microseconds per
  request; no client or socket cost dilutes the ratio. GET /score/42 and a JSON POST.
* `--wrk`: each variant served by uvicorn (one worker, httptools) and loaded by `wrk` on loopback
  (1 thread, 16 connections): requests per second, and the server's own CPU time per request
  (from /proc: steadier than req/s when other processes compete for the two cores).

Run from the repository root:
    python bench/middleware_stack.py [--requests 2000] [--rounds 15] [--wrk] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

from app.config import Settings  # noqa: E402
from app.main import install_middleware, install_separate_middleware  # noqa: E402
from app.monitoring.correlation import CorrelationIdMiddleware  # noqa: E402
from app.monitoring.metrics import MetricsCollector  # noqa: E402
from app.monitoring.middleware import PrometheusMiddleware  # noqa: E402
from app.rate_limiting import build_rate_limiter  # noqa: E402
from app.rate_limiting.redis_config import RedisConfig  # noqa: E402

PATH = "/score/42"
BODY = b'{"amount": 129.5, "currency": "EUR", "user_id": "u-1842", "merchant": "m-77"}'


class Transaction(BaseModel):
    amount: float = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    user_id: str
    merchant: str
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/score/{txn_id}")
    async def score(txn_id: int) -> dict[str, float]:
        return {"txn": txn_id, "risk": 0.12}

    @app.post("/score")
    async def score_transaction(transaction: Transaction) -> dict[str, float]:
        return {"risk": min(1.0, transaction.amount / 10_000)}

    return app


def _settings(**overrides: Any) -> Settings:
    # A limit no benchmark reaches: every request is checked, none refused.
    return Settings(app_name="bench", app_version="v1", configure_logging=False,
                    rate_limit_requests=10**9, **overrides)


def monitoring_only_app() -> FastAPI:
    """Correlation id + metrics: this package's own share of the stack."""
    app = bare_app()
    settings = _settings()
    collector = MetricsCollector(settings.app_name, settings.app_version)
    app.add_middleware(PrometheusMiddleware, collector=collector, routes=app.router.routes)
    app.add_middleware(CorrelationIdMiddleware)
    return app


def floodgate_app(redis_url: str | None = None) -> FastAPI:
    """The whole stack create_app installs: ids, metrics, rate limit, validation."""
    # A generous Redis deadline: on a busy machine the default 50 ms sometimes trips, and a
    # check that fails open skips Redis, which would flatter the numbers.
    settings = _settings(redis_url=redis_url, redis_timeout_seconds=1.0)
    app = bare_app()
    collector = MetricsCollector(settings.app_name, settings.app_version)
    redis = RedisConfig.from_settings(settings).build() if redis_url else None
    limiter = build_rate_limiter(settings, registry=collector.registry, redis=redis)
    app.state.rate_limiter = limiter
    install_middleware(app, settings, collector, limiter)
    return app


def stacked_app() -> FastAPI:
    """The same four concerns as four stacked middlewares (what create_app installed before
    `RuntimeMiddleware`): shows what running them as one layer saves."""
    settings = _settings()
    app = bare_app()
    collector = MetricsCollector(settings.app_name, settings.app_version)
    limiter = build_rate_limiter(settings, registry=collector.registry)
    app.state.rate_limiter = limiter
    install_separate_middleware(app, settings, collector, limiter)
    return app


def instrumentator_app() -> FastAPI:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = bare_app()
    Instrumentator(registry=CollectorRegistry()).instrument(app)
    return app


def slowapi_app(asgi: bool) -> FastAPI:
    from slowapi import Limiter, _rate_limit_exceeded_handler
    from slowapi.errors import RateLimitExceeded
    from slowapi.middleware import SlowAPIASGIMiddleware, SlowAPIMiddleware
    from slowapi.util import get_remote_address

    app = bare_app()
    app.state.limiter = Limiter(key_func=get_remote_address, default_limits=["100000000/minute"])
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
    app.add_middleware(SlowAPIASGIMiddleware if asgi else SlowAPIMiddleware)
    return app


VARIANTS: dict[str, Callable[[], FastAPI]] = {
    "bare FastAPI": bare_app,
    "ids + metrics": monitoring_only_app,
    "floodgate stack": floodgate_app,
    "4 layers stacked": stacked_app,
    "instrumentator": instrumentator_app,
    "slowapi (ASGI mw)": lambda: slowapi_app(asgi=True),
    "slowapi (BaseHTTP)": lambda: slowapi_app(asgi=False),
}


# -- in-process driver ----------------------------------------------------------------------

def _scope(post: bool) -> dict[str, Any]:
    headers = [(b"host", b"bench"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if post:
        headers += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(BODY)).encode())]
    path = "/score" if post else PATH
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": "POST" if post else "GET", "scheme": "http", "path": path,
        "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "client": ("127.0.0.1", 50000), "server": ("bench", 80), "headers": headers,
    }


async def drive(app: ASGIApp, requests: int, post: bool = False) -> float:
    """CPU seconds of this process for `requests` sequential requests (every answer must be
    200). CPU time, not wall time: the machine is shared, and time other processes take from
    this one must not count as middleware cost."""
    statuses: list[int] = []
    request = {"type": "http.request", "body": BODY if post else b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    template = _scope(post)
    start = time.process_time()
    for _ in range(requests):
        scope = dict(template)
        scope["headers"] = list(template["headers"])
        await app(scope, receive, send)
    elapsed = time.process_time() - start
    bad = [s for s in statuses if s != 200]
    if bad or len(statuses) != requests:
        raise RuntimeError(f"unexpected statuses {sorted(set(bad))} ({len(statuses)} answers)")
    return elapsed


def in_process(variants: dict[str, Callable[[], FastAPI]], requests: int,
               rounds: int, post: bool = False) -> dict[str, float]:
    """Median CPU microseconds per request for each variant, rounds interleaved."""
    apps = {name: make() for name, make in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in apps}

    async def run() -> None:
        for app in apps.values():
            limiter = getattr(app.state, "rate_limiter", None)
            if limiter is not None:
                await limiter.start()
            await drive(app, 200, post)  # warm up: builds the middleware stack, fills caches
        for _ in range(rounds):
            for name, app in apps.items():
                samples[name].append(await drive(app, requests, post) / requests * 1e6)

    asyncio.run(run())
    return {name: statistics.median(values) for name, values in samples.items()}


# -- Redis round trips ----------------------------------------------------------------------

def redis_round_trips(redis_url: str, requests: int = 200) -> float:
    """Top-level Redis commands per request with the Redis limiter, counted by MONITOR on the
    server (commands a Lua script runs are tagged `lua` there: they are not round trips)."""
    from redis.asyncio import Redis

    app = floodgate_app(redis_url)
    marker = f"bench-end-{time.time_ns()}"

    async def run() -> int:
        await app.state.rate_limiter.start()
        await drive(app, 20)
        watcher = Redis.from_url(redis_url)
        seen = 0
        async with watcher.monitor() as monitor:
            async def count() -> None:
                nonlocal seen
                async for entry in monitor.listen():
                    if marker in entry["command"]:
                        return
                    if entry.get("client_type") != "lua":
                        seen += 1

            task = asyncio.create_task(count())
            await asyncio.sleep(0.05)
            await drive(app, requests)
            marker_client = Redis.from_url(redis_url)
            await marker_client.echo(marker)
            await asyncio.wait_for(task, 30)
        # aclose (redis-py >= 5): the installed types-redis stubs predate it
        await marker_client.aclose()  # type: ignore[attr-defined]
        await watcher.aclose()  # type: ignore[attr-defined]
        await app.state.rate_limiter.aclose()
        return seen

    return asyncio.run(run()) / requests


# -- uvicorn + wrk --------------------------------------------------------------------------

REDIS_VARIANT = "floodgate + Redis"


def uvicorn_factory() -> FastAPI:
    """`uvicorn bench.middleware_stack:uvicorn_factory --factory` with BENCH_VARIANT set."""
    name = os.environ["BENCH_VARIANT"]
    if name == REDIS_VARIANT:
        return floodgate_app(os.environ["BENCH_REDIS_URL"])
    return VARIANTS[name]()


def _server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_wrk(variants: list[str], seconds: int, rounds: int,
             redis_url: str | None = None) -> dict[str, tuple[float, float]]:
    """Median (requests per second, server CPU microseconds per request) through uvicorn
    (1 worker, httptools) loaded by wrk (1 thread, 16 connections). All servers run at once and
    the wrk runs are interleaved round by round, so a load spike from elsewhere on the machine
    hits every variant alike."""
    from tests.support.ports import free_port, wait_for_port

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_REDIS_URL": redis_url or ""}
    try:
        for name in variants:
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bench.middleware_stack:uvicorn_factory",
                 "--factory", "--port", str(port), "--log-level", "warning", "--no-access-log",
                 "--http", "httptools", "--loop", "asyncio"],
                cwd=ROOT, env={**env, "BENCH_VARIANT": name},
            )
            servers[name] = (process, f"http://127.0.0.1:{port}{PATH}")
            wait_for_port(port, timeout=30)
        rates: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        for _, url in servers.values():  # warm-up
            subprocess.run([wrk, "-t1", "-c16", "-d1s", url], capture_output=True, check=True)
        for _ in range(rounds):
            for name, (process, url) in servers.items():
                before = _server_cpu_seconds(process.pid)
                out = subprocess.run([wrk, "-t1", "-c16", f"-d{seconds}s", url],
                                     capture_output=True, text=True, check=True).stdout
                used = _server_cpu_seconds(process.pid) - before
                rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
                total = re.search(r"(\d+) requests in", out)
                if rate is None or total is None or "Non-2xx" in out:
                    raise RuntimeError(f"wrk output for {name}:\n{out}")
                rates[name].append(float(rate.group(1)))
                cpu[name].append(used / int(total.group(1)) * 1e6)
        return {name: (statistics.median(rates[name]), statistics.median(cpu[name]))
                for name in variants}
    finally:
        for process, _ in servers.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


# -- report ---------------------------------------------------------------------------------

def print_table(get: dict[str, float], post: dict[str, float],
                wrk: dict[str, tuple[float, float]] | None, round_trips: float | None) -> None:
    """One row per variant: in-process GET and POST (us/request, x bare), and through uvicorn +
    wrk (req/s and x bare; server CPU us/request and x bare)."""
    base_get, base_post = get["bare FastAPI"], post["bare FastAPI"]
    header = f"{'variant':<20}{'GET us':>8}{'x bare':>7}{'POST us':>9}{'x bare':>7}"
    if wrk is not None:
        header += f"{'wrk req/s':>11}{'x bare':>7}{'cpu us':>8}{'x bare':>7}"
    print("\n" + header + f"{'  Redis round trips/request':<0}")
    for name in get:
        row = (f"{name:<20}{get[name]:>8.1f}{base_get / get[name]:>7.2f}"
               f"{post[name]:>9.1f}{base_post / post[name]:>7.2f}")
        if wrk is not None and name in wrk:
            (rate, cpu), (base_rate, base_cpu) = wrk[name], wrk["bare FastAPI"]
            row += f"{rate:>11.0f}{rate / base_rate:>7.2f}{cpu:>8.1f}{base_cpu / cpu:>7.2f}"
        if name == REDIS_VARIANT and round_trips is not None:
            row += f"  {round_trips:.2f}"
        print(row)
    print("\nin-process: CPU us per request through a raw ASGI driver (median of rounds);"
          f" GET {PATH}, POST /score with a JSON body.")
    if wrk is not None:
        print("wrk: uvicorn (1 worker) + wrk -t1 -c16 on loopback, GET; cpu us = the server's"
              " user+system CPU per request (median of interleaved rounds).")
    stack = "floodgate stack"
    added = get[stack] - base_get
    print(f"\nGoals: whole stack (memory) adds {added:.0f} us on GET, "
          f"{post[stack] - base_post:.0f} us on POST (goal < 300 us);"
          f" in-process {base_get / get[stack]:.2f}x bare", end="")
    if wrk is not None:
        print(f", through uvicorn + wrk {wrk[stack][0] / wrk['bare FastAPI'][0]:.2f}x bare"
              " (goal >= 0.85)", end="")
    if round_trips is not None:
        print(f"; Redis {round_trips:.2f} round trips per request (goal 1)", end="")
    print(".")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--wrk", action="store_true", help="also measure through uvicorn + wrk")
    parser.add_argument("--wrk-seconds", type=int, default=3)
    parser.add_argument("--wrk-rounds", type=int, default=5)
    parser.add_argument("--redis-url", help="also measure the stack with the Redis limiter")
    args = parser.parse_args()

    variants = dict(VARIANTS)
    if args.redis_url:
        url = args.redis_url
        variants = {**dict(list(VARIANTS.items())[:3]), REDIS_VARIANT: lambda: floodgate_app(url),
                    **dict(list(VARIANTS.items())[3:])}
    get = in_process(variants, args.requests, args.rounds)
    post = in_process(variants, args.requests, args.rounds, post=True)
    round_trips = redis_round_trips(args.redis_url) if args.redis_url else None
    wrk = (with_wrk(list(variants), args.wrk_seconds, args.wrk_rounds, args.redis_url)
           if args.wrk else None)
    print_table(get, post, wrk, round_trips)


if __name__ == "__main__":
    main()
