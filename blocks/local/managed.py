"""Named long-running processes of a stack (nginx, Prometheus, the load generator, extras).

`ProcessBook.start(name, argv, ...)` is idempotent: a component that already runs is returned
as it is. Its record (`<state>/procs/<name>.json`) is written before the spawn, its output goes
to `<state>/logs/<name>.log`, and `start` only returns once the component is ready (an HTTP URL
answering 2xx, a TCP port accepting, or a caller's check) — or raises `TargetError` with the
end of its log, after stopping it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import BaseModel, Field

from blocks.errors import TargetError
from blocks.local.files import atomic_write_text, tail
from blocks.local.http import loopback_client
from blocks.local.layout import StateLayout
from blocks.local.processes import ProcessHandle, is_alive, marker_env, spawn, terminate


class ComponentRecord(BaseModel):
    name: str
    argv: list[str]
    log: str
    pid: int | None = None
    start_ticks: int | None = None
    port: int | None = None
    ready_url: str | None = None
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def handle(self) -> ProcessHandle | None:
        if self.pid is None or self.start_ticks is None:
            return None
        return ProcessHandle(self.pid, self.start_ticks)


def url_ready(url: str, timeout: float = 0.5) -> bool:
    try:
        return loopback_client().get(url, timeout=timeout).is_success
    except httpx.HTTPError:
        return False


def port_ready(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _ready(port: int | None, ready_url: str | None, ready: Callable[[], bool] | None) -> bool:
    """Every given readiness condition holds (none given: started is ready)."""
    if ready_url is not None and not url_ready(ready_url):
        return False
    if port is not None and not port_ready(port):
        return False
    return ready is None or ready()


class ProcessBook:
    """Start, find and stop the stack's named components."""

    def __init__(self, layout: StateLayout) -> None:
        self._layout = layout

    def names(self) -> list[str]:
        directory = self._layout.procs_dir
        return sorted(p.stem for p in directory.glob("*.json")) if directory.is_dir() else []

    def get(self, name: str) -> ComponentRecord | None:
        path = self._layout.proc_record(name)
        return ComponentRecord.model_validate_json(path.read_text()) if path.exists() else None

    def running(self, name: str) -> ComponentRecord | None:
        record = self.get(name)
        handle = record.handle if record else None
        return record if handle is not None and is_alive(handle) else None

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        port: int | None = None,
        ready_url: str | None = None,
        ready: Callable[[], bool] | None = None,
        timeout: float = 60.0,
    ) -> ComponentRecord:
        """Start `name` unless it already runs; return once it is ready."""
        existing = self.running(name)
        if existing is not None:
            return existing
        log = self._layout.proc_log(name)
        record = ComponentRecord(name=name, argv=list(argv), log=str(log), port=port,
                                 ready_url=ready_url)
        self._save(record)  # intent first: a crash right after spawn leaves a findable trail
        child_env = marker_env(self._layout.root, component=name, extra=env)
        handle = spawn(argv, env=child_env, log_path=log, cwd=cwd)
        record = record.model_copy(update={"pid": handle.pid, "start_ticks": handle.start_ticks})
        self._save(record)
        self._wait_ready(record, handle, port, ready_url, ready, timeout)
        return record

    def is_ready(self, record: ComponentRecord) -> bool:
        if record.ready_url is not None:
            return url_ready(record.ready_url)
        if record.port is not None:
            return port_ready(record.port)
        return True

    def stop(self, name: str, timeout: float = 10.0) -> None:
        record = self.get(name)
        if record is not None and record.handle is not None:
            terminate(record.handle, timeout)
        self._layout.proc_record(name).unlink(missing_ok=True)

    def _wait_ready(self, record: ComponentRecord, handle: ProcessHandle, port: int | None,
                    ready_url: str | None, ready: Callable[[], bool] | None,
                    timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not is_alive(handle):
                self._layout.proc_record(record.name).unlink(missing_ok=True)
                raise TargetError(f"{record.name} exited during start-up: "
                                  f"{tail(Path(record.log), 1500) or 'no output'}")
            if _ready(port, ready_url, ready):
                return
            if time.monotonic() > deadline:
                terminate(handle, timeout=5)
                self._layout.proc_record(record.name).unlink(missing_ok=True)
                raise TargetError(f"{record.name} was not ready after {timeout:.0f}s: "
                                  f"{tail(Path(record.log), 1500) or 'no output'}")
            time.sleep(0.05)

    def _save(self, record: ComponentRecord) -> None:
        atomic_write_text(self._layout.proc_record(record.name), record.model_dump_json(indent=2))
