"""The stack's load generator (like Flagger's load tester): steady traffic so analysis has data.

Run as `python -m blocks.local.loadgen <config.json>`; `LocalStack` starts it. Per app it sends
`rate` requests per second to the entry port and `preview_rate` to the preview port (so a
blue-green candidate has data before it takes traffic), open-loop: requests leave on a fixed
schedule whatever the latency, like real users, with at most `max_in_flight` outstanding.
Requests are drawn from the app's `LoadProfile` (weighted kinds, bodies cycled).

The config file is re-read when it changes (apps registered later join without a restart). Every
second `stats_file` is replaced with counts per app and port: sent, completed, failed (5xx or no
answer), by X-Version, by status, and the rate over the last 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import sys
import time
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field

from blocks.local.apps import TrafficRequest
from blocks.local.files import atomic_write_json


class LoadStream(BaseModel):
    app: str
    port: str  # "entry" or "preview"
    url: str
    rate: float = Field(ge=0)
    requests: list[TrafficRequest]


class LoadConfig(BaseModel):
    streams: list[LoadStream] = Field(default_factory=list)
    stats_file: str
    max_in_flight: int = 100
    timeout_seconds: float = 5.0


class StreamStats:
    def __init__(self) -> None:
        self.sent = 0
        self.completed = 0
        self.failed = 0
        self.skipped = 0
        self.by_version: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.recent: deque[float] = deque()
        self.last_error: str | None = None
        self.first = time.monotonic()

    def record(self, status: int | None, version: str | None, error: str | None) -> None:
        now = time.monotonic()
        self.completed += 1
        self.recent.append(now)
        self.by_status[str(status) if status is not None else "error"] += 1
        if status is None or status >= 500:
            self.failed += 1
            self.last_error = error or f"HTTP {status}"
        if version is not None:
            self.by_version[version] += 1

    def as_dict(self) -> dict[str, Any]:
        now = time.monotonic()
        while self.recent and self.recent[0] < now - 10:
            self.recent.popleft()
        window = min(10.0, max(now - self.first, 1.0))
        return {
            "sent": self.sent, "completed": self.completed, "failed": self.failed,
            "skipped": self.skipped, "by_version": dict(self.by_version),
            "by_status": dict(self.by_status), "rate_10s": round(len(self.recent) / window, 2),
            "last_error": self.last_error,
        }


class LoadGenerator:
    def __init__(self, config_path: Path) -> None:
        self._config_path = config_path
        self._stats: dict[tuple[str, str], StreamStats] = {}
        self._in_flight = 0
        self._started = datetime.now(UTC).isoformat()

    async def run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        config, mtime = self._load()
        async with httpx.AsyncClient(timeout=config.timeout_seconds,
                                     limits=httpx.Limits(max_connections=config.max_in_flight,
                                                         max_keepalive_connections=20)) as client:
            streams = self._start_streams(client, config)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
                self._write_stats(config)
                current = self._mtime()
                if current != mtime:
                    for task in streams:
                        task.cancel()
                    config, mtime = self._load()
                    streams = self._start_streams(client, config)
            for task in streams:
                task.cancel()
            self._write_stats(config)

    def _mtime(self) -> float:
        try:
            return self._config_path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _load(self) -> tuple[LoadConfig, float]:
        mtime = self._mtime()
        return LoadConfig.model_validate_json(self._config_path.read_text()), mtime

    def _start_streams(self, client: httpx.AsyncClient,
                       config: LoadConfig) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self._stream(client, config, s))
                for s in config.streams if s.rate > 0 and s.requests]

    async def _stream(self, client: httpx.AsyncClient, config: LoadConfig,
                      stream: LoadStream) -> None:
        stats = self._stats.setdefault((stream.app, stream.port), StreamStats())
        interval = 1.0 / stream.rate
        kinds = stream.requests
        weights = [k.weight for k in kinds]
        bodies = {id(k): itertools.cycle(k.bodies) for k in kinds if k.bodies}
        rng = random.Random()
        loop = asyncio.get_running_loop()
        due = loop.time() + rng.random() * interval
        pending: set[asyncio.Task[None]] = set()
        while True:
            now = loop.time()
            if due > now:
                await asyncio.sleep(due - now)
            due = max(due + interval, loop.time() - 1.0)  # never burst to catch up a stall
            if self._in_flight >= config.max_in_flight:
                stats.skipped += 1
                continue
            kind = rng.choices(kinds, weights)[0]
            body = next(bodies[id(kind)]) if id(kind) in bodies else None
            stats.sent += 1
            task = asyncio.create_task(self._one(client, stream.url, kind, body, stats))
            pending.add(task)
            task.add_done_callback(pending.discard)

    async def _one(self, client: httpx.AsyncClient, base: str, kind: TrafficRequest,
                   body: dict[str, Any] | None, stats: StreamStats) -> None:
        self._in_flight += 1
        try:
            response = await client.request(kind.method, f"{base}{kind.path}", json=body)
            stats.record(response.status_code, response.headers.get("x-version"), None)
        except httpx.HTTPError as error:
            stats.record(None, None, f"{type(error).__name__}: {error}")
        finally:
            self._in_flight -= 1

    def _write_stats(self, config: LoadConfig) -> None:
        apps: dict[str, dict[str, Any]] = {}
        for (app, port), stats in sorted(self._stats.items()):
            apps.setdefault(app, {})[port] = stats.as_dict()
        atomic_write_json(Path(config.stats_file), {
            "pid": os.getpid(), "started_at": self._started,
            "updated_at": datetime.now(UTC).isoformat(), "apps": apps,
        })


def read_stats(path: Path) -> dict[str, Any]:
    """The last stats the generator wrote ({} if it has not written any)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (FileNotFoundError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m blocks.local.loadgen <config.json>")
    asyncio.run(LoadGenerator(Path(args[0])).run())


if __name__ == "__main__":
    main()
