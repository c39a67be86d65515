"""The `Target` port: everything a rollout needs from the platform it deploys to.

Two implementations: `blocks.local` (processes behind a real nginx, Prometheus file_sd) and
`blocks.kubernetes` (Deployments, Services, routers). The flows only talk to this protocol, so one
contract-test suite runs against both.

Rules every implementation keeps:

* Every method is idempotent: a tick that died half-way is simply run again (Flagger's routers
  read weights back for the same reason).
* `get_weights` reads back what actually serves traffic (nginx's loaded config, the cluster's
  objects), never a cached copy of what was last asked for.
* The rollout record is an opaque JSON object owned by `flows`; the target only stores it, next to
  the app (a state file, a ConfigMap), so a restarted orchestrator resumes from the platform.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from blocks.metrics import MetricsSource

JSON = dict[str, Any]


@dataclass(frozen=True)
class AppInfo:
    """What the target knows about an app before a rollout starts."""

    name: str
    stable_version: str | None
    replicas: int
    entrypoint: str  # URL users reach the app on
    preview: str | None = None  # URL that reaches the candidate only (blue-green checks)
    env: Mapping[str, str] = field(default_factory=dict)  # the running version's configuration
    required_config: tuple[str, ...] = ()
    migration_check: tuple[str, ...] | None = None
    health_path: str = "/health"


@dataclass(frozen=True)
class Instance:
    """One running copy of a version (a local process, a pod)."""

    app: str
    version: str
    name: str
    address: str  # host:port (local) or pod IP:port; informational for people
    ready: bool | None = None  # readiness as the platform reports it; None if it has none


@dataclass(frozen=True)
class ProbeResult:
    """One HTTP health probe of one instance."""

    instance: str
    ok: bool
    detail: str  # "200 in 3 ms", "connection refused", "503 in 2 ms"


class Snapshot(BaseModel):
    """The app as it was before a rollout changed anything; what a rollback restores."""

    id: str
    app: str
    target: str
    taken_at: datetime
    stable_version: str | None
    instances: dict[str, int] = Field(default_factory=dict, description="version -> count")
    weights: dict[str, int] = Field(default_factory=dict)
    env: dict[str, dict[str, str]] = Field(default_factory=dict, description="version -> env")
    payload: JSON = Field(default_factory=dict, description="Target-specific state.")
    checksum: str = ""

    def compute_checksum(self) -> str:
        """SHA-256 over everything but the checksum, so a damaged file is caught on restore."""
        body = self.model_dump(mode="json", exclude={"checksum"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def sealed(self) -> Snapshot:
        return self.model_copy(update={"checksum": self.compute_checksum()})


@runtime_checkable
class Target(Protocol):
    """A platform Floodgate can roll apps out on."""

    name: str

    # Inventory -------------------------------------------------------------------------------
    def apps(self) -> list[str]: ...
    def describe(self, app: str) -> AppInfo:
        """Raise `UnknownApp` (listing the known apps) for a name the target lacks."""
        ...

    def inventory(self) -> dict[str, str | None]:
        """app -> stable version, for checking a new version's dependency constraints."""
        ...

    # Rollout records -----------------------------------------------------------------------
    def load_record(self, app: str) -> JSON | None: ...
    def save_record(self, app: str, record: JSON) -> None:
        """Durably store the current record (atomic replace) and keep it in the history."""
        ...

    def history(self, app: str, limit: int = 20) -> list[JSON]: ...
    def lock(self, app: str, holder: str) -> AbstractContextManager[None]:
        """Exclusive per-app lock held while driving a rollout; raise `AppLocked` if taken.

        The lock must die with its holder (flock, an expiring Lease), so a killed flow never
        blocks the next one.
        """
        ...

    def post_command(self, app: str, command: str) -> None:
        """Leave a command ('abort', 'promote', 'promote-full') for whoever drives the app."""
        ...

    def take_commands(self, app: str) -> list[str]: ...

    # Snapshots -----------------------------------------------------------------------------
    def snapshot(self, app: str) -> Snapshot: ...
    def snapshots(self, app: str) -> list[Snapshot]:
        """Newest first."""
        ...

    def get_snapshot(self, app: str, snapshot_id: str) -> Snapshot: ...
    def restore(self, snapshot: Snapshot) -> None:
        """Make the app look exactly like the snapshot (instances, weights, stable version)."""
        ...

    @property
    def snapshot_retention(self) -> timedelta:
        """How long snapshots are kept and restorable (72 h by default, configurable)."""
        ...

    def prune_snapshots(self, app: str, older_than: timedelta) -> list[str]: ...

    # Workload ------------------------------------------------------------------------------
    def ensure_instances(
        self, app: str, version: str, count: int, env: Mapping[str, str]
    ) -> list[Instance]:
        """Exactly `count` instances of `version` exist afterwards (start or stop as needed)."""
        ...

    def instances(self, app: str, version: str | None = None) -> list[Instance]: ...
    def probe(self, instance: Instance, path: str, timeout: float) -> ProbeResult: ...
    def set_weights(self, app: str, weights: Mapping[str, int]) -> None:
        """Route traffic by percent per version (sums to 100); returns once it serves."""
        ...

    def get_weights(self, app: str) -> dict[str, int]: ...
    def set_preview(self, app: str, version: str | None) -> None:
        """Point the preview entry at `version` (None: at the stable version)."""
        ...

    def mark_stable(self, app: str, version: str) -> None: ...
    def retire(self, app: str, version: str) -> None:
        """Stop every instance of `version`; a no-op if none is left."""
        ...


class TargetBlock(Protocol):
    """A Prefect Block that builds a live `Target` (as `KubernetesCredentials.get_client()`)
    and the `MetricsSource` its apps are judged by."""

    def get_target(self) -> Target: ...
    def get_metrics_source(self) -> MetricsSource: ...


def snapshot_age(snapshot: Snapshot, now: datetime) -> timedelta:
    return now - snapshot.taken_at
