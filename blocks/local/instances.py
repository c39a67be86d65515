"""Instance records and version specs: the local target's bookkeeping of what should run.

An `InstanceRecord` is written *before* its process is spawned (pid unknown) and completed
after; a record without a pid whose marked process cannot be found means the spawn never
happened. A `VersionSpec` remembers the configuration a version was last ensured with, so
`describe()` can report the stable version's env and `up()` can restart it after a `down()`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from blocks.local.files import atomic_write_text
from blocks.local.layout import StateLayout
from blocks.local.processes import ProcessHandle


def utcnow() -> datetime:
    return datetime.now(UTC)


def config_digest(env: dict[str, str]) -> str:
    """Identity of a configuration: instances started with another env are replaced."""
    return hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()[:16]


class InstanceRecord(BaseModel):
    app: str
    version: str
    port: int
    config_digest: str
    pid: int | None = None
    start_ticks: int | None = None
    stopping: bool = Field(False, description="Removed from routing; its process is stopping.")
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def name(self) -> str:
        return f"{self.app}-{self.version}-{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def marker(self) -> str:
        """The FLOODGATE_INSTANCE value of its process."""
        return f"{self.app}/{self.version}/{self.port}"

    @property
    def handle(self) -> ProcessHandle | None:
        if self.pid is None or self.start_ticks is None:
            return None
        return ProcessHandle(self.pid, self.start_ticks)


class VersionSpec(BaseModel):
    version: str
    env: dict[str, str] = Field(default_factory=dict, description="Effective config env.")
    replicas: int
    updated_at: datetime = Field(default_factory=utcnow)


class InstanceStore:
    """Reads and writes records under `<state>/apps/<app>/instances/` and `versions/`."""

    def __init__(self, layout: StateLayout) -> None:
        self._layout = layout

    def records(self, app: str, version: str | None = None) -> list[InstanceRecord]:
        base = self._layout.instances_dir(app, version)
        pattern = "*.json" if version is not None else "*/*.json"
        found = []
        for path in sorted(base.glob(pattern)) if base.is_dir() else []:
            try:
                found.append(InstanceRecord.model_validate_json(path.read_text()))
            except (OSError, ValueError):
                continue  # vanished between glob and read (another process retired it)
        return sorted(found, key=lambda r: (r.version, r.created_at, r.port))

    def versions(self, app: str) -> list[str]:
        """Versions that have instance records or a spec."""
        names = {r.version for r in self.records(app)}
        names.update(s.version for s in self.specs(app))
        return sorted(names)

    def used_ports(self, app: str | None = None) -> set[int]:
        apps = [app] if app else sorted(p.name for p in self._layout.apps_dir.glob("*"))
        return {r.port for name in apps for r in self.records(name)}

    def save(self, record: InstanceRecord) -> None:
        path = self._layout.instance_file(record.app, record.version, record.port)
        atomic_write_text(path, record.model_dump_json(indent=2))

    def delete(self, record: InstanceRecord) -> None:
        self._layout.instance_file(record.app, record.version, record.port).unlink(
            missing_ok=True
        )

    def spec(self, app: str, version: str) -> VersionSpec | None:
        path = self._layout.version_file(app, version)
        return VersionSpec.model_validate_json(path.read_text()) if path.exists() else None

    def specs(self, app: str) -> list[VersionSpec]:
        directory = self._layout.versions_dir(app)
        if not directory.is_dir():
            return []
        return [VersionSpec.model_validate_json(p.read_text()) for p in sorted(
            directory.glob("*.json"))]

    def save_spec(self, app: str, spec: VersionSpec) -> None:
        atomic_write_text(self._layout.version_file(app, spec.version),
                          spec.model_dump_json(indent=2))

    def delete_spec(self, app: str, version: str) -> None:
        self._layout.version_file(app, version).unlink(missing_ok=True)
