"""A real `prefect server start` on a free loopback port with its own PREFECT_HOME.

One per test session (per xdist worker): starting one takes ~15–20 s, so tests share it and
point `PREFECT_API_URL` at it instead of using `prefect_test_harness` (a server per use).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port

STARTUP_TIMEOUT = 120.0


@dataclass(frozen=True)
class PrefectServer:
    api_url: str
    home: Path
    log: Path

    def env(self) -> dict[str, str]:
        """Environment for processes (CLI, flows) that must use this server."""
        return {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }


def _server_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
        PREFECT_API_SERVICES_TELEMETRY_ENABLED="false",
    )
    return env


@contextmanager
def running_prefect_server(home: Path) -> Iterator[PrefectServer]:
    port = free_port()
    log = home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port)],
            env=_server_env(home), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prefect server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{api_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"prefect server not healthy: {log.read_text()[-2000:]}")
            time.sleep(0.25)
        yield PrefectServer(api_url=api_url, home=home, log=log)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
