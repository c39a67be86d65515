"""`KubernetesTarget`: the `Target` port on a Kubernetes namespace.

A facade over small parts, one concept each: `workload` (Deployments and pods), `routers`
(traffic), `app_store` / `records` / `commands` / `snapshots` / `restore` (state kept in the
cluster), `lease` (the lock), `health` (probes) and `scaling` (HPA/PDB). See
docs/kubernetes.md for the objects an app consists of.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client import ApiClient

from blocks.errors import AppLocked, TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.app_store import AppStore
from blocks.kubernetes.commands import CommandQueue
from blocks.kubernetes.health import Prober
from blocks.kubernetes.kinds import HPA, PDB
from blocks.kubernetes.lease import LeaseLock
from blocks.kubernetes.manifests import (
    NOTHING,
    deployment_env,
    deployment_replicas,
    service_manifest,
    service_url,
)
from blocks.kubernetes.objects import collect
from blocks.kubernetes.records import RecordStore
from blocks.kubernetes.restore import Restorer
from blocks.kubernetes.routers import Services, make_router, plan_split
from blocks.kubernetes.scaling import scaling_objects
from blocks.kubernetes.settings import TargetSettings
from blocks.kubernetes.snapshots import SnapshotStore
from blocks.kubernetes.workload import Waits, Workload
from blocks.target import JSON, AppInfo, Instance, ProbeResult, Snapshot

_PUBLIC_ROUTERS = ("nginx", "gateway-api")


class KubernetesTarget:
    """Apps as Deployments per version behind Services and a router, in one namespace."""

    name = "kubernetes"

    def __init__(
        self, api_client: ApiClient, namespace: str, settings: TargetSettings | None = None
    ) -> None:
        self.settings = settings = settings or TargetSettings()
        self.namespace = namespace
        self.api = KubeApi(api_client, namespace)
        self.workload = Workload(self.api, Waits(settings.wait_timeout_seconds,
                                                 settings.poll_seconds))
        self.services = Services(self.api, self.workload)
        self.router = make_router(settings.router, self.services)
        self.app_store = AppStore(self.api)
        self.records = RecordStore(self.api, settings.history_limit)
        self.commands = CommandQueue(self.api)
        self.snapshot_store = SnapshotStore(self.api)
        self.restorer = Restorer(self.api, self.workload, self.app_store, self.name,
                                 timedelta(hours=settings.snapshot_retention_hours))
        self.prober = Prober(self.api, settings.health_probe, settings.in_cluster)
        self._leases: dict[str, LeaseLock] = {}

    # App definitions ---------------------------------------------------------------------------

    def register_app(self, app: KubernetesApp) -> None:
        """Store (or update) an app's definition in the cluster; checked against the router."""
        self.router.check(app)
        self.app_store.register(app)
        stable = self.app_store.get(app.name)[1]
        if stable is not None:
            self._apply_scaling(app, stable)

    def definition(self, app: str) -> KubernetesApp:
        return self.app_store.get(app)[0]

    # Inventory ---------------------------------------------------------------------------------

    def apps(self) -> list[str]:
        return self.app_store.names()

    def describe(self, app: str) -> AppInfo:
        definition, stable = self.app_store.get(app)
        env = dict(definition.env)
        if stable is not None:
            deployment = self.workload.deployment(app, stable)
            if deployment is not None:
                env = deployment_env(deployment)
        return AppInfo(
            name=app,
            stable_version=stable,
            replicas=definition.replicas,
            entrypoint=self._entrypoint(definition),
            preview=service_url(definition, names.preview_service_name(app), self.namespace),
            env=env,
            required_config=tuple(definition.required_config),
            migration_check=tuple(definition.migration_check)
            if definition.migration_check else None,
            health_path=definition.health_path,
        )

    def _entrypoint(self, app: KubernetesApp) -> str:
        if app.router.host and self.router.name in _PUBLIC_ROUTERS:
            return f"http://{app.router.host}{app.router.path}"
        return service_url(app, names.service_name(app.name), self.namespace)

    def inventory(self) -> dict[str, str | None]:
        return self.app_store.stable_versions()

    # Records, lock, commands -------------------------------------------------------------------

    def load_record(self, app: str) -> JSON | None:
        return self.records.load(app)

    def save_record(self, app: str, record: JSON) -> None:
        held = self._leases.get(app)
        if held is not None and held.lost:
            raise AppLocked(f"this orchestrator lost the Lease of {app}; it must stop driving it")
        self.records.save(app, record)

    def history(self, app: str, limit: int = 20) -> list[JSON]:
        return self.records.history(app, limit)

    @contextmanager
    def lock(self, app: str, holder: str) -> Iterator[None]:
        lease = LeaseLock(self.api, app, holder, self.settings.lease_duration_seconds)
        lease.acquire()
        self._leases[app] = lease
        try:
            yield
        finally:
            self._leases.pop(app, None)
            lease.release()

    def post_command(self, app: str, command: str) -> None:
        self.app_store.get(app)
        self.commands.post(app, command)

    def take_commands(self, app: str) -> list[str]:
        return self.commands.take(app)

    # Snapshots ---------------------------------------------------------------------------------

    def snapshot(self, app: str) -> Snapshot:
        _, stable = self.app_store.get(app)
        deployments = self.workload.deployments(app)
        snapshot = Snapshot(
            id=uuid.uuid4().hex[:12],
            app=app,
            target=self.name,
            taken_at=datetime.now(UTC),
            stable_version=stable,
            instances={v: deployment_replicas(d) for v, d in deployments.items()},
            weights=self.get_weights(app),
            env={v: deployment_env(d) for v, d in deployments.items()},
            payload={"namespace": self.namespace, "objects": collect(self.api, app)},
        ).sealed()
        self.snapshot_store.save(snapshot)
        return snapshot

    def snapshots(self, app: str) -> list[Snapshot]:
        return self.snapshot_store.all(app)

    def get_snapshot(self, app: str, snapshot_id: str) -> Snapshot:
        return self.snapshot_store.get(app, snapshot_id)

    def restore(self, snapshot: Snapshot) -> None:
        self.restorer.restore(snapshot)

    @property
    def snapshot_retention(self) -> timedelta:
        return timedelta(hours=self.settings.snapshot_retention_hours)

    def prune_snapshots(self, app: str, older_than: timedelta) -> list[str]:
        return self.snapshot_store.prune(app, older_than, datetime.now(UTC))

    # Workload ----------------------------------------------------------------------------------

    def ensure_instances(
        self, app: str, version: str, count: int, env: Mapping[str, str]
    ) -> list[Instance]:
        definition, stable = self.app_store.get(app)
        track = names.STABLE_TRACK if version == stable else names.CANARY_TRACK
        self.workload.ensure(definition, version, count, dict(env), track)
        return self.workload.instances(app, version)

    def instances(self, app: str, version: str | None = None) -> list[Instance]:
        return self.workload.instances(app, version)

    def probe(self, instance: Instance, path: str, timeout: float) -> ProbeResult:
        return self.prober.probe(instance, path, timeout)

    def set_weights(self, app: str, weights: Mapping[str, int]) -> None:
        definition, stable = self.app_store.get(app)
        split = plan_split(weights, self.services.entry_version(app), stable)
        deployments = self.workload.deployments(app)
        missing = [v for v in (split.primary, split.canary) if v is not None
                   and (v not in deployments or deployment_replicas(deployments[v]) == 0)]
        if missing:
            raise TargetError(f"no instances of {', '.join(missing)} to route to")
        self.router.set_routes(definition, split)

    def get_weights(self, app: str) -> dict[str, int]:
        return self.router.get_routes(self.definition(app))

    def set_preview(self, app: str, version: str | None) -> None:
        definition, stable = self.app_store.get(app)
        chosen = version or stable or self.services.entry_version(app)
        manifest: dict[str, Any] = service_manifest(
            definition, names.preview_service_name(app), "preview",
            names.pod_labels(app, chosen) if chosen else {names.APP: app, **NOTHING},
        )
        self.api.apply(manifest)

    def mark_stable(self, app: str, version: str) -> None:
        definition, _ = self.app_store.get(app)
        names.version_label(version)
        self.app_store.set_stable(app, version)
        for other in self.workload.deployments(app):
            track = names.STABLE_TRACK if other == version else names.CANARY_TRACK
            self.workload.set_track(app, other, track)
        self._apply_scaling(definition, version)

    def retire(self, app: str, version: str) -> None:
        served = self.get_weights(app).get(version, 0)
        if served > 0:
            raise TargetError(f"{app} {version} still serves {served}% of traffic; "
                              "route it away before retiring it")
        self.workload.retire(app, version)

    def _apply_scaling(self, app: KubernetesApp, stable: str) -> None:
        """HPA and PDB follow the stable Deployment (see blocks.kubernetes.scaling)."""
        name = names.scaling_name(app.name)
        if not app.autoscaling:
            for kind in (HPA, PDB):
                found = self.api.get(kind, name)
                labels = (found or {}).get("metadata", {}).get("labels") or {}
                if labels.get(names.APP) == app.name:  # never someone else's object
                    self.api.delete(kind, name)
            return
        deployment = self.workload.deployment(app.name, stable)
        env = deployment_env(deployment) if deployment is not None else dict(app.env)
        for manifest in scaling_objects(app, stable, env, self.namespace):
            self.api.apply(manifest)
