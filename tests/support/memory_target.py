"""An in-memory `Target` and `MetricsSource` for unit tests of the flows (our own Protocols).

Instances are records, health and metrics are whatever the test says; everything else (records,
snapshots, weights, commands) behaves like a real target so the state machine is exercised for
real. The contract tests run this fake too, so it cannot drift from the real targets silently.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from blocks.errors import AppLocked, InvalidSnapshot, TargetError, UnknownApp
from blocks.metrics import Measurement
from blocks.target import JSON, AppInfo, Instance, ProbeResult, Snapshot


@dataclass
class MemoryApp:
    name: str
    stable_version: str | None
    replicas: int = 2
    env: dict[str, str] = field(default_factory=dict)
    required_config: tuple[str, ...] = ()
    migration_check: tuple[str, ...] | None = None


class MemoryTarget:
    """A platform that lives in a dict; `unhealthy` versions fail their probes."""

    name = "memory"

    def __init__(self, apps: list[MemoryApp]) -> None:
        self._apps = {a.name: a for a in apps}
        self.instances_by_app: dict[str, dict[str, int]] = {}
        self.env_by_app: dict[str, dict[str, dict[str, str]]] = {}
        self.weights: dict[str, dict[str, int]] = {}
        self.preview: dict[str, str | None] = {}
        self.records: dict[str, JSON] = {}
        self.history_by_app: dict[str, list[JSON]] = {}
        self.saved_snapshots: dict[str, Snapshot] = {}
        self.commands: dict[str, list[str]] = {}
        self.unhealthy: set[str] = set()
        self.fail_next: dict[str, Exception] = {}
        self.calls: list[str] = []
        self._locks: dict[str, str] = {}
        self._mutex = threading.Lock()
        for app in apps:
            if app.stable_version is not None:
                self.instances_by_app[app.name] = {app.stable_version: app.replicas}
                self.env_by_app[app.name] = {app.stable_version: dict(app.env)}
                self.weights[app.name] = {app.stable_version: 100}

    def _maybe_fail(self, op: str) -> None:
        self.calls.append(op)
        exc = self.fail_next.pop(op, None)
        if exc is not None:
            raise exc

    # Inventory
    def apps(self) -> list[str]:
        return sorted(self._apps)

    def describe(self, app: str) -> AppInfo:
        if app not in self._apps:
            raise UnknownApp(f"unknown app {app!r}; known: {', '.join(self.apps())}")
        a = self._apps[app]
        stable_env = self.env_by_app.get(app, {}).get(a.stable_version or "", a.env)
        return AppInfo(
            name=app,
            stable_version=a.stable_version,
            replicas=a.replicas,
            entrypoint=f"memory://{app}",
            preview=f"memory://{app}/preview",
            env=dict(stable_env),
            required_config=a.required_config,
            migration_check=a.migration_check,
        )

    def inventory(self) -> dict[str, str | None]:
        return {name: a.stable_version for name, a in self._apps.items()}

    # Records
    def load_record(self, app: str) -> JSON | None:
        record = self.records.get(app)
        return copy.deepcopy(record) if record is not None else None

    def save_record(self, app: str, record: JSON) -> None:
        self.records[app] = copy.deepcopy(record)
        history = self.history_by_app.setdefault(app, [])
        history[:] = [h for h in history if h["id"] != record["id"]] + [copy.deepcopy(record)]

    def history(self, app: str, limit: int = 20) -> list[JSON]:
        return list(reversed(self.history_by_app.get(app, [])))[:limit]

    @contextmanager
    def lock(self, app: str, holder: str) -> Iterator[None]:
        with self._mutex:
            if app in self._locks:
                raise AppLocked(f"{app} is locked by {self._locks[app]}")
            self._locks[app] = holder
        try:
            yield
        finally:
            with self._mutex:
                self._locks.pop(app, None)

    def post_command(self, app: str, command: str) -> None:
        self.commands.setdefault(app, []).append(command)

    def take_commands(self, app: str) -> list[str]:
        return self.commands.pop(app, [])

    # Snapshots
    def snapshot(self, app: str) -> Snapshot:
        self._maybe_fail("snapshot")
        a = self._apps[app]
        snap = Snapshot(
            id=uuid.uuid4().hex[:12],
            app=app,
            target=self.name,
            taken_at=datetime.now(UTC),
            stable_version=a.stable_version,
            instances=dict(self.instances_by_app.get(app, {})),
            weights=dict(self.weights.get(app, {})),
            env=copy.deepcopy(self.env_by_app.get(app, {})),
        ).sealed()
        self.saved_snapshots[snap.id] = snap
        return snap

    def snapshots(self, app: str) -> list[Snapshot]:
        found = [s for s in self.saved_snapshots.values() if s.app == app]
        return sorted(found, key=lambda s: s.taken_at, reverse=True)

    def get_snapshot(self, app: str, snapshot_id: str) -> Snapshot:
        snap = self.saved_snapshots.get(snapshot_id)
        if snap is None or snap.app != app:
            raise InvalidSnapshot(f"no snapshot {snapshot_id} for {app}")
        return snap

    def restore(self, snapshot: Snapshot) -> None:
        self._maybe_fail("restore")
        if snapshot.checksum != snapshot.compute_checksum():
            raise InvalidSnapshot(f"snapshot {snapshot.id} fails its checksum")
        app = snapshot.app
        self.instances_by_app[app] = dict(snapshot.instances)
        self.env_by_app[app] = copy.deepcopy(snapshot.env)
        self.weights[app] = dict(snapshot.weights)
        self.preview[app] = None
        self._apps[app].stable_version = snapshot.stable_version

    snapshot_retention = timedelta(hours=72)

    def prune_snapshots(self, app: str, older_than: timedelta) -> list[str]:
        cutoff = datetime.now(UTC) - older_than
        old = [s.id for s in self.snapshots(app) if s.taken_at < cutoff]
        for snapshot_id in old:
            del self.saved_snapshots[snapshot_id]
        return old

    # Workload
    def ensure_instances(
        self, app: str, version: str, count: int, env: Mapping[str, str]
    ) -> list[Instance]:
        self._maybe_fail("ensure_instances")
        self.instances_by_app.setdefault(app, {})[version] = count
        self.env_by_app.setdefault(app, {})[version] = dict(env)
        if count == 0:
            del self.instances_by_app[app][version]
        return self.instances(app, version)

    def instances(self, app: str, version: str | None = None) -> list[Instance]:
        return [
            Instance(app, v, f"{app}-{v}-{i}", f"memory:{i}", ready=v not in self.unhealthy)
            for v, n in sorted(self.instances_by_app.get(app, {}).items())
            if version is None or v == version
            for i in range(n)
        ]

    def probe(self, instance: Instance, path: str, timeout: float) -> ProbeResult:
        ok = instance.version not in self.unhealthy
        return ProbeResult(instance.name, ok, "200 in 1 ms" if ok else "503 in 1 ms")

    def set_weights(self, app: str, weights: Mapping[str, int]) -> None:
        self._maybe_fail("set_weights")
        if sum(weights.values()) != 100:
            raise TargetError(f"weights must sum to 100, got {dict(weights)}")
        running = self.instances_by_app.get(app, {})
        missing = [v for v, w in weights.items() if w > 0 and not running.get(v)]
        if missing:
            raise TargetError(f"no instances of {', '.join(missing)} to route to")
        self.weights[app] = {v: w for v, w in weights.items() if w > 0}

    def get_weights(self, app: str) -> dict[str, int]:
        return dict(self.weights.get(app, {}))

    def set_preview(self, app: str, version: str | None) -> None:
        self.preview[app] = version

    def mark_stable(self, app: str, version: str) -> None:
        self._apps[app].stable_version = version

    def retire(self, app: str, version: str) -> None:
        self.instances_by_app.get(app, {}).pop(version, None)


@dataclass
class ScriptedMetrics:
    """Measurements per version; a callable lets a test change them over time."""

    by_version: dict[str, Measurement] = field(default_factory=dict)
    default: Measurement = field(default_factory=lambda: Measurement(error="no data scripted"))
    queries: list[tuple[str, str]] = field(default_factory=list)

    def measure(self, app: str, version: str, window_seconds: float) -> Measurement:
        self.queries.append((app, version))
        return self.by_version.get(version, self.default)


HEALTHY = Measurement(requests=200, error_rate=0.0, p95_seconds=0.01)
