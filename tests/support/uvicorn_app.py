"""Run `uvicorn app.main:create_app --factory` as a real process (settings from env vars)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running_app(
    env: Mapping[str, str], target: str = "app.main:create_app", workdir: Path | None = None
) -> Iterator[str]:
    """Start the factory on a free port; yields "127.0.0.1:PORT"."""
    port = free_port()
    log = (workdir / f"uvicorn-{port}.log").open("wb") if workdir else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=30)
        yield f"127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if log is not subprocess.DEVNULL:
            log.close()  # type: ignore[union-attr]
