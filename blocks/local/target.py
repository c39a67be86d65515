"""`LocalTarget`: the `Target` protocol over local processes, nginx and Prometheus file_sd.

The stack (nginx, Prometheus) must be running for anything that routes (`ensure_instances`,
`set_weights`, `set_preview`, `mark_stable`, `snapshot`); those raise `TargetError` otherwise.
Records, locks, commands and snapshots are plain files and work without it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import timedelta

import httpx

from blocks.errors import TargetError
from blocks.local.apps import AppRegistry, LocalApp
from blocks.local.http import loopback_client
from blocks.local.instances import InstanceStore
from blocks.local.layout import StateLayout
from blocks.local.locks import StateLock, rollout_lock
from blocks.local.managed import ProcessBook
from blocks.local.nginx import NginxServer
from blocks.local.records import JSON, CommandQueue, RecordStore
from blocks.local.restore import capture, restore
from blocks.local.routers import make_router
from blocks.local.routing import Routing
from blocks.local.routing_table import RoutingState
from blocks.local.settings import LocalSettings
from blocks.local.snapshots import SnapshotStore
from blocks.local.workload import Workload, check_version
from blocks.target import AppInfo, Instance, ProbeResult, Snapshot


class LocalTarget:
    """Apps as local processes behind one nginx; see the `blocks.local` package docstring."""

    name = "local"

    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.settings = settings or LocalSettings.load()
        self.layout = StateLayout(self.settings.state_dir)
        self.book = ProcessBook(self.layout)
        self.registry = AppRegistry(self.layout, {
            self.settings.admin_port: "the nginx admin endpoint",
            self.settings.prometheus_port: "Prometheus",
        })
        self.store = InstanceStore(self.layout)
        self.state_lock = StateLock(self.layout.state_lock)
        self.nginx = NginxServer(self.settings, self.layout, self.book)
        self.routing = Routing(self.settings, self.layout, self.registry, self.store, self.nginx,
                               make_router(self.settings.router))
        self.workload = Workload(self.settings, self.layout, self.registry, self.store,
                                 self.routing, self.state_lock)
        self._records = RecordStore(self.layout)
        self._commands = CommandQueue(self.layout)
        self.snapshot_store = SnapshotStore(self.layout)

    # inventory -------------------------------------------------------------------------------
    def register_app(self, app: LocalApp) -> None:
        """Add or update an app definition (nginx picks up its ports at the next reload)."""
        with self.state_lock.hold():
            path = self.layout.app_file(app.name)
            previous = path.read_text() if path.exists() else None
            self.registry.register(app)
            if self.nginx.running() is None:
                return
            try:
                self.routing.apply()
            except TargetError:  # e.g. its port is taken: the app stays as it was
                if previous is None:
                    self.registry.unregister(app.name)
                else:
                    path.write_text(previous)
                raise

    def apps(self) -> list[str]:
        return self.registry.names()

    def describe(self, app: str) -> AppInfo:
        definition = self.registry.get(app)
        stable = self.routing.asked(app).stable
        spec = self.store.spec(app, stable) if stable else None
        return AppInfo(
            name=app,
            stable_version=stable,
            replicas=definition.replicas,
            entrypoint=f"http://127.0.0.1:{definition.entry_port}",
            preview=f"http://127.0.0.1:{definition.preview_port}",
            env=dict(spec.env if spec else definition.env),
            required_config=tuple(definition.required_config),
            migration_check=tuple(definition.migration_check)
            if definition.migration_check else None,
            health_path=definition.health_path,
        )

    def inventory(self) -> dict[str, str | None]:
        return {app: self.routing.asked(app).stable for app in self.apps()}

    # records, locks, commands ----------------------------------------------------------------
    def load_record(self, app: str) -> JSON | None:
        return self._records.load(app)

    def save_record(self, app: str, record: JSON) -> None:
        self.registry.get(app)
        self._records.save(app, record)

    def history(self, app: str, limit: int = 20) -> list[JSON]:
        return self._records.history(app, limit)

    def lock(self, app: str, holder: str) -> AbstractContextManager[None]:
        self.registry.get(app)
        return rollout_lock(self.layout.rollout_lock(app), app, holder)

    def post_command(self, app: str, command: str) -> None:
        self.registry.get(app)
        self._commands.post(app, command)

    def take_commands(self, app: str) -> list[str]:
        return self._commands.take(app)

    # snapshots -------------------------------------------------------------------------------
    def snapshot(self, app: str) -> Snapshot:
        return capture(self, app)

    def snapshots(self, app: str) -> list[Snapshot]:
        return self.snapshot_store.newest_first(app)

    def get_snapshot(self, app: str, snapshot_id: str) -> Snapshot:
        return self.snapshot_store.get(app, snapshot_id)

    def restore(self, snapshot: Snapshot) -> None:
        restore(self, snapshot)

    @property
    def snapshot_retention(self) -> timedelta:
        return timedelta(hours=self.settings.snapshot_retention_hours)

    def prune_snapshots(self, app: str, older_than: timedelta) -> list[str]:
        return self.snapshot_store.prune(app, older_than)

    # workload --------------------------------------------------------------------------------
    def ensure_instances(self, app: str, version: str, count: int,
                         env: Mapping[str, str]) -> list[Instance]:
        self.workload.ensure(app, version, count, env)
        return self.instances(app, version)

    def instances(self, app: str, version: str | None = None) -> list[Instance]:
        return self.workload.instances(app, version)

    def probe(self, instance: Instance, path: str, timeout: float) -> ProbeResult:
        started = time.monotonic()
        try:
            response = loopback_client().get(f"http://{instance.address}{path}",
                                             timeout=timeout)
        except httpx.TimeoutException:
            return ProbeResult(instance.name, False, f"timed out after {timeout:g}s")
        except httpx.HTTPError as error:
            return ProbeResult(instance.name, False, _connection_detail(error))
        millis = (time.monotonic() - started) * 1000
        return ProbeResult(instance.name, response.is_success,
                           f"{response.status_code} in {millis:.0f} ms")

    def set_weights(self, app: str, weights: Mapping[str, int]) -> None:
        self.registry.get(app)
        checked = self._checked_weights(app, weights)
        with self.state_lock.hold():
            if self.get_weights(app) == checked:
                return
            asked = self.routing.asked(app)
            self.routing.switch(app, asked.model_copy(update={"weights": checked}))

    def get_weights(self, app: str) -> dict[str, int]:
        self.registry.get(app)
        served = self.routing.served(app).get("weights", {})
        return {version: int(weight) for version, weight in served.items()}

    def set_preview(self, app: str, version: str | None) -> None:
        self._set_role(app, "preview", version)

    def mark_stable(self, app: str, version: str) -> None:
        self._set_role(app, "stable", version)

    def retire(self, app: str, version: str) -> None:
        self.workload.retire(app, version)

    # local-only helpers ----------------------------------------------------------------------
    def clear_routing(self, app: str, *, weights: bool = False, stable: bool = False) -> None:
        """Drop weights and/or the stable mark (restoring a snapshot of an empty app)."""
        with self.state_lock.hold():
            asked = self.routing.asked(app)
            changes: dict[str, object] = {}
            if weights and asked.weights:
                changes["weights"] = {}
            if stable and asked.stable is not None:
                changes["stable"] = None
            if changes:
                self.routing.switch(app, asked.model_copy(update=changes))

    def _set_role(self, app: str, role: str, version: str | None) -> None:
        self.registry.get(app)
        if version is not None:
            check_version(version)
        with self.state_lock.hold():
            if version is not None and not self._has_instances(app, version):
                raise TargetError(f"cannot make {version} the {role} version of {app}: "
                                  "it has no instances")
            asked = self.routing.asked(app)
            wanted: RoutingState = asked.model_copy(update={role: version})
            if wanted != asked or not self.routing.in_sync(app):
                self.routing.switch(app, wanted)

    def _has_instances(self, app: str, version: str) -> bool:
        return any(not r.stopping for r in self.store.records(app, version))

    def _checked_weights(self, app: str, weights: Mapping[str, int]) -> dict[str, int]:
        if not weights:
            raise TargetError("weights must name at least one version")
        for version, weight in weights.items():
            check_version(version)
            if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
                raise TargetError(f"weight of {version} must be an integer 0..100, got {weight!r}")
        total = sum(weights.values())
        if total != 100:
            raise TargetError(f"weights must sum to 100, got {total} ({dict(weights)})")
        missing = [v for v, w in weights.items() if w > 0 and not self._has_instances(app, v)]
        if missing:
            raise TargetError(f"{app} has no instances of {', '.join(sorted(missing))}; "
                              "ensure_instances first")
        return {v: w for v, w in weights.items() if w > 0}  # 0 % = not routed at all


def _connection_detail(error: httpx.HTTPError) -> str:
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
