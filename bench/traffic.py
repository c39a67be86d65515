"""Paced HTTP traffic for the benches, with every request's start time and answering version."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Traffic:
    """Paced client threads; every request is recorded as (start, version or None)."""

    url: str
    rate: float
    threads: int = 6
    log: list[tuple[float, str | None]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _run(self, offset: float) -> None:
        interval = self.threads / self.rate
        due = time.monotonic() + offset
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                due += interval
                started = time.monotonic()
                try:
                    response = client.get(f"{self.url}/model")
                    version = response.headers.get("x-version")
                    if response.status_code != 200:
                        self.failures.append(f"HTTP {response.status_code}")
                except httpx.HTTPError as error:
                    version = None
                    self.failures.append(repr(error))
                self.log.append((started, version))

    def __enter__(self) -> Traffic:
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i / self.rate,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join()

    def achieved_rate(self, since: float) -> float:
        recent = [t for t, _ in self.log if t >= since]
        return len(recent) / max(time.monotonic() - since, 1e-9)
