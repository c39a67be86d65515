"""The nginx master of a local stack: start, test, reload, stop, and read what it serves.

Reload protocol (never a broken config, never a guess about what serves):
1. the new config is checked with `nginx -t` on a candidate file; a refusal raises
   `TargetError` with nginx's own message and changes nothing;
2. the candidate replaces nginx.conf atomically (the previous file is kept aside), SIGHUP goes
   to the master;
3. we poll the admin endpoint until the new generation answers AND every old worker is gone
   or has retitled itself "shutting down" (it closes its listening sockets and idle keep-alive
   connections right then), so every new request is handled by the new config;
4. if an `[emerg]` appears in the error log instead (a port taken, ...), or time runs out, the
   previous file is put back and `TargetError` carries nginx's message; nginx keeps serving the
   old config, as it does for any failed reload.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from blocks.errors import TargetError
from blocks.local.files import atomic_write_text, tail
from blocks.local.http import loopback_client
from blocks.local.layout import StateLayout
from blocks.local.managed import ComponentRecord, ProcessBook
from blocks.local.nginx_config import STATE_LOCATION, WEIGHTS_LOCATION
from blocks.local.processes import terminate
from blocks.local.settings import LocalSettings

COMPONENT = "nginx"


class NginxServer:
    def __init__(self, settings: LocalSettings, layout: StateLayout, book: ProcessBook) -> None:
        self._settings = settings
        self._layout = layout
        self._book = book
        self._admin = f"http://127.0.0.1:{settings.admin_port}"

    @property
    def prefix(self) -> str:
        return f"{self._layout.nginx_dir}/"

    # lifecycle -----------------------------------------------------------------------------
    def running(self) -> ComponentRecord | None:
        return self._book.running(COMPONENT)

    def start(self, config: str, generation: int, timeout: float = 20.0) -> ComponentRecord:
        """Start the master with `config` (idempotent: a running master is returned as is)."""
        existing = self.running()
        if existing is not None:
            return existing
        self.test(config)
        self._prepare_dirs()
        atomic_write_text(self._layout.nginx_conf, config)
        argv = [self._settings.binary("nginx"), "-p", self.prefix, "-c",
                str(self._layout.nginx_conf)]
        return self._book.start(
            COMPONENT, argv, port=self._settings.admin_port, timeout=timeout,
            ready=lambda: self._serves(generation),
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGQUIT lets workers finish requests), then the process group."""
        record = self._book.get(COMPONENT)
        if record is not None and record.handle is not None:
            terminate(record.handle, timeout, first_signal=signal.SIGQUIT)
        self._book.stop(COMPONENT)

    # configuration -------------------------------------------------------------------------
    def test(self, config: str) -> None:
        """`nginx -t` on `config`; raises `TargetError` with nginx's message if refused."""
        self._prepare_dirs()
        candidate = self._layout.nginx_dir / "nginx.conf.candidate"
        atomic_write_text(candidate, config)
        result = subprocess.run(
            [self._settings.binary("nginx"), "-t", "-q", "-p", self.prefix, "-c", str(candidate)],
            capture_output=True, text=True, timeout=30, check=False,
        )
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip().replace(str(candidate), "nginx.conf")
            raise TargetError(f"nginx refused the new config: {message}")

    def write(self, config: str) -> None:
        """Store `config` for the next start (which tests it) without reloading.

        Used after a run-time weight switch: the config differs from the loaded one only in
        validated weights and the generation, and skipping `nginx -t` keeps it off the
        switch's path.
        """
        atomic_write_text(self._layout.nginx_conf, config)

    def reload(self, config: str, generation: int, timeout: float = 10.0) -> None:
        """Serve `config`; returns once every new request is handled by it (see module doc)."""
        record = self.running()
        if record is None or record.pid is None:
            raise TargetError("nginx is not running; start the local stack (floodgate local up)")
        self.test(config)
        conf = self._layout.nginx_conf
        previous = conf.read_text() if conf.exists() else None
        log_offset = self._log_size()
        old_workers = self._workers(record.pid)
        atomic_write_text(conf, config)
        os.kill(record.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while True:
            emerg = self._emergencies(log_offset)
            if emerg or time.monotonic() > deadline:
                if previous is not None:
                    atomic_write_text(conf, previous)
                reason = emerg or f"generation {generation} not served after {timeout:.0f}s"
                raise TargetError(f"nginx did not take the new config: {reason}")
            if self._serves(generation) and self._retired(old_workers):
                return
            time.sleep(0.003)

    # reading back --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The admin endpoint's JSON: what the loaded config (and run-time weights) serve."""
        try:
            response = loopback_client().get(f"{self._admin}{STATE_LOCATION}", timeout=2.0,
                                 headers={"Connection": "close"})
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data
        except (httpx.HTTPError, ValueError) as error:
            raise TargetError(f"nginx admin endpoint {self._admin} is not answering: {error}") \
                from error

    def post_weights(self, app: str, generation: int, spec: str) -> dict[str, Any]:
        """Lua router: change an app's weights in nginx's shared memory (no reload)."""
        try:
            response = loopback_client().post(
                f"{self._admin}{WEIGHTS_LOCATION}",
                params={"app": app, "generation": str(generation), "weights": spec},
                timeout=2.0,
            )
        except httpx.HTTPError as error:
            raise TargetError(f"nginx admin endpoint is not answering: {error}") from error
        if not response.is_success:
            raise TargetError(f"nginx refused weights {spec} for {app}: {response.text.strip()}")
        data: dict[str, Any] = response.json()
        return data

    def error_log_tail(self) -> str:
        return tail(self._layout.nginx_error_log)

    # internals -----------------------------------------------------------------------------
    def _serves(self, generation: int) -> bool:
        try:
            return int(self.state().get("config_generation", -1)) >= generation
        except TargetError:
            return False

    def _prepare_dirs(self) -> None:
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (self._layout.nginx_dir / sub).mkdir(parents=True, exist_ok=True)
        self._layout.logs_dir.mkdir(parents=True, exist_ok=True)

    def _log_size(self) -> int:
        try:
            return self._layout.nginx_error_log.stat().st_size
        except FileNotFoundError:
            return 0

    def _emergencies(self, offset: int) -> str:
        try:
            with self._layout.nginx_error_log.open("rb") as handle:
                handle.seek(offset)
                text = handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
        return "; ".join(line for line in text.splitlines() if "[emerg]" in line)

    @staticmethod
    def _workers(master: int) -> list[int]:
        """Pids of the master's worker processes (read from /proc/<pid>/task/*/children)."""
        pids: list[int] = []
        for children in Path(f"/proc/{master}/task").glob("*/children"):
            try:
                pids += [int(p) for p in children.read_text().split()]
            except OSError:
                continue
        return pids

    @staticmethod
    def _retired(workers: list[int]) -> bool:
        for pid in workers:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if title and b"shutting down" not in title:
                return False
        return True
