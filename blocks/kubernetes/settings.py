"""Knobs of a `KubernetesTarget` that are not about how to reach the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from blocks.kubernetes.health import ProbeMode
from blocks.kubernetes.routers import DEFAULT_ROUTER

DEFAULT_LEASE_SECONDS = 30


@dataclass(frozen=True)
class TargetSettings:
    """`router`: none | replica-ratio | nginx | gateway-api. `lease_duration_seconds`: how long
    a killed orchestrator blocks the app. `health_probe`: see `blocks.kubernetes.health`.
    `wait_timeout_seconds`: Floodgate's own bound on any wait (Deployments normally fail sooner,
    at their progress deadline). `snapshot_retention_hours`: the rollback window; restoring an
    older state would silently undo everything deployed since (as the local target)."""

    router: str = DEFAULT_ROUTER
    lease_duration_seconds: int = DEFAULT_LEASE_SECONDS
    health_probe: ProbeMode = "auto"
    in_cluster: bool = False
    wait_timeout_seconds: float = 900.0
    poll_seconds: float = 0.2
    history_limit: int = 50
    snapshot_retention_hours: float = 72.0  # older snapshots are refused by restore
