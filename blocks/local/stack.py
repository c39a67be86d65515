"""`LocalStack`: start and stop everything a local rollout needs, and say what runs.

`up()` (idempotent: a second call starts nothing twice) starts Prometheus, the nginx master,
each registered app's stable version (its `initial_version` at the first up) with weight 100,
and the load generator. `start_process()` runs any other long-lived process under the same
bookkeeping (the CLI starts a Prefect server and a flow-serving process through it). `down()`
stops all of it and then scans `/proc` for anything carrying the state dir's marker — an orphan
of a killed orchestrator included — and kills it, so nothing is left running.

After `down()` only the stable version is remembered for the next `up()` (weights reset to
100 % stable, preview cleared): in-flight rollouts are the flows' business (their records stay).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from blocks.errors import TargetError
from blocks.local.apps import LocalApp
from blocks.local.files import atomic_write_json
from blocks.local.loadgen import LoadConfig, LoadStream
from blocks.local.locks import StateLock
from blocks.local.managed import ComponentRecord, url_ready
from blocks.local.processes import OwnedProcess, kill_processes, owned_processes
from blocks.local.prometheus import PrometheusServer
from blocks.local.settings import LocalSettings
from blocks.local.target import LocalTarget

CORE = ("nginx", "prometheus", "loadgen")


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    up: bool
    pid: int | None = None
    port: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LocalStack:
    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.settings = settings or LocalSettings.load()
        self.target = LocalTarget(self.settings)
        self.layout = self.target.layout
        self.book = self.target.book
        self.prometheus = PrometheusServer(self.settings, self.layout, self.book)
        self._stack_lock = StateLock(self.layout.stack_lock, timeout=300)

    # up --------------------------------------------------------------------------------------
    def up(self, apps: Sequence[LocalApp] = ()) -> dict[str, ComponentStatus]:
        """Start what is not running; register `apps` first. Returns `status()`."""
        with self._stack_lock.hold():
            self.settings.save()
            for app in apps:
                self.target.registry.register(app)
            self.prometheus.start()
            with self.target.state_lock.hold():
                self.target.routing.start_nginx()
            for app in self.target.registry.all():
                self._start_stable(app)
            self._write_loadgen_config()
            if self.settings.loadgen_enabled and self.target.apps():
                self.book.start("loadgen", [sys.executable, "-m", "blocks.local.loadgen",
                                            str(self.layout.loadgen_config)],
                                cwd=_project_root(), ready=self.layout.loadgen_stats.exists)
            elif not self.settings.loadgen_enabled:
                self.book.stop("loadgen", self.settings.stop_timeout_seconds)  # turned off
            return self.status()

    def register(self, app: LocalApp) -> None:
        """Register (or update) an app; if the stack runs, start its stable version now."""
        self.target.register_app(app)
        if self.target.nginx.running() is not None:
            self._start_stable(app)
            self._write_loadgen_config()

    def _start_stable(self, app: LocalApp) -> None:
        target = self.target
        version = target.routing.asked(app.name).stable or app.initial_version
        spec = target.store.spec(app.name, version)
        target.ensure_instances(app.name, version, spec.replicas if spec else app.replicas,
                                spec.env if spec else {})
        deadline = time.monotonic() + self.settings.ready_timeout_seconds
        while not all(i.ready for i in target.instances(app.name, version)):
            if time.monotonic() > deadline:
                raise TargetError(f"{app.name} {version} not ready after "
                                  f"{self.settings.ready_timeout_seconds:g}s; see "
                                  f"{self.layout.logs_dir / app.name}")
            time.sleep(0.1)
        if not target.get_weights(app.name):
            target.set_weights(app.name, {version: 100})
        target.mark_stable(app.name, version)

    def _write_loadgen_config(self) -> None:
        streams = []
        for app in self.target.registry.all():
            rate = app.load.rate_per_second
            rate = self.settings.loadgen_rate if rate is None else rate
            streams.append(LoadStream(app=app.name, port="entry", rate=rate,
                                      url=f"http://127.0.0.1:{app.entry_port}",
                                      requests=app.load.requests))
            streams.append(LoadStream(app=app.name, port="preview",
                                      rate=rate * self.settings.loadgen_preview_share,
                                      url=f"http://127.0.0.1:{app.preview_port}",
                                      requests=app.load.requests))
        config = LoadConfig(streams=streams, stats_file=str(self.layout.loadgen_stats))
        atomic_write_json(self.layout.loadgen_config, config.model_dump(mode="json"))

    # extra processes -------------------------------------------------------------------------
    def start_process(self, name: str, argv: Sequence[str], *,
                      env: Mapping[str, str] | None = None, cwd: Path | None = None,
                      ready_url: str | None = None, port: int | None = None,
                      timeout: float = 120.0) -> ComponentRecord:
        """Run a named process under the stack (idempotent); returns once it is ready."""
        if name in CORE or not name.replace("-", "").replace("_", "").isalnum():
            raise TargetError(f"invalid process name {name!r} (reserved: {', '.join(CORE)})")
        return self.book.start(name, argv, env=env, cwd=cwd, ready_url=ready_url, port=port,
                               timeout=timeout)

    def stop_process(self, name: str) -> None:
        self.book.stop(name, self.settings.stop_timeout_seconds)

    # down ------------------------------------------------------------------------------------
    def down(self) -> list[int]:
        """Stop everything; returns the pids that had to be killed by the final sweep."""
        with self._stack_lock.hold():
            timeout = self.settings.stop_timeout_seconds
            for name in self.book.names():
                if name not in ("nginx", "prometheus"):
                    self.book.stop(name, timeout)
            with self.target.state_lock.hold():
                for app in self.target.apps():
                    self._stop_app(app)
                self.target.nginx.stop(timeout)
            self.prometheus.stop(timeout)
            return kill_processes(self.leftover_processes())

    def _stop_app(self, app: str) -> None:
        target = self.target
        target.workload.stop_instances(target.store.records(app))
        target.workload.reap(app)
        asked = target.routing.asked(app)
        stable = asked.stable
        target.routing.save_asked(app, asked.model_copy(update={
            "weights": {stable: 100} if stable else {}, "preview": None}))
        for spec in target.store.specs(app):
            if spec.version != stable:
                target.store.delete_spec(app, spec.version)

    def leftover_processes(self) -> list[OwnedProcess]:
        """Processes still carrying this state dir's marker (empty after a clean `down()`)."""
        return owned_processes(self.layout.root, nginx_prefix=self.layout.nginx_dir)

    # status ----------------------------------------------------------------------------------
    def status(self) -> dict[str, ComponentStatus]:
        result: dict[str, ComponentStatus] = {}
        for name in sorted(set(self.book.names()) | {"nginx", "prometheus"}):
            record = self.book.running(name)
            up = record is not None and self.book.is_ready(record)
            detail = "" if record is not None else "not running"
            if name == "prometheus" and record is not None:
                up = url_ready(f"{self.prometheus.url}/-/ready")
                detail = "" if up else "not ready (metric queries will fail)"
            result[name] = ComponentStatus(name, up, record.pid if record else None,
                                           record.port if record else None, detail)
        for app in self.target.registry.all():
            result[f"app:{app.name}"] = self._app_status(app, result["nginx"].up)
        return result

    def _app_status(self, app: LocalApp, nginx_up: bool) -> ComponentStatus:
        instances = self.target.instances(app.name)
        ready = sum(1 for i in instances if i.ready)
        weights = self.target.get_weights(app.name) if nginx_up else {}
        stable = self.target.routing.asked(app.name).stable
        detail = f"stable {stable}; {ready}/{len(instances)} instances ready; weights {weights}"
        return ComponentStatus(f"app:{app.name}", nginx_up and ready > 0, None, app.entry_port,
                               detail)


def _project_root() -> Path:
    """Where `blocks` is importable from (the load generator runs `-m blocks.local.loadgen`)."""
    return Path(__file__).resolve().parents[2]
