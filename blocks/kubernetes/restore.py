"""Restore a snapshot: validate everything first, then make the app's objects what they were.

Validation (nothing changes if any of it fails, `InvalidSnapshot` lists why): the checksum,
the age (within the retention, 72 h by default), that the snapshot is of this target and
namespace, that every object is an app object of a
known kind carrying the app's label, and a server-side dry-run apply of each object — the API
server's own validation, which also catches immutable fields (a changed selector) and kinds
the cluster no longer serves.

Then, in order: Deployments are applied and waited on (capacity first), then Services,
Ingresses, HTTPRoutes, HPA and PDB; then every app object the snapshot does not list is
deleted (routes before the workloads they route to), and the stable version is set back.
Applying with force as `floodgate` replaces every field Floodgate set since, including fields
the snapshot lacks, so the objects end up exactly as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from blocks.errors import InvalidSnapshot
from blocks.kubernetes import names
from blocks.kubernetes.api import ApiFailure, KubeApi
from blocks.kubernetes.app_store import AppStore
from blocks.kubernetes.kinds import APP_KINDS, DEPLOYMENT, kind_of
from blocks.kubernetes.manifests import deployment_version
from blocks.kubernetes.objects import object_key
from blocks.kubernetes.workload import Workload
from blocks.target import Snapshot

JSON = dict[str, Any]


class Restorer:
    def __init__(
        self, api: KubeApi, workload: Workload, apps: AppStore, target: str,
        retention: timedelta,
    ) -> None:
        self._api = api
        self._workload = workload
        self._apps = apps
        self._target = target
        self._retention = retention

    def check(self, snapshot: Snapshot) -> list[JSON]:
        """The snapshot's objects in restore order, or InvalidSnapshot saying what is wrong."""
        where = f"snapshot {snapshot.id} of {snapshot.app}"
        if snapshot.checksum != snapshot.compute_checksum():
            raise InvalidSnapshot(f"{where} fails its checksum (damaged or edited)")
        age = datetime.now(UTC) - snapshot.taken_at
        if age > self._retention:
            raise InvalidSnapshot(
                f"{where} is {age.total_seconds() / 3600:.0f} h old, past the "
                f"{self._retention.total_seconds() / 3600:g} h retention"
            )
        if snapshot.target != self._target:
            raise InvalidSnapshot(f"{where} was taken on target {snapshot.target!r}")
        namespace = snapshot.payload.get("namespace")
        if namespace != self._api.namespace:
            raise InvalidSnapshot(f"{where} is of namespace {namespace!r}, "
                                  f"not {self._api.namespace!r}")
        objects = snapshot.payload.get("objects")
        if not isinstance(objects, list):
            raise InvalidSnapshot(f"{where} holds no object list")
        problems = _shape_problems(objects, snapshot.app)
        if not problems:
            for manifest in objects:
                try:
                    self._api.apply(manifest, dry_run=True)
                except ApiFailure as failure:
                    problems.append(f"the API server refuses it: {failure}")
        if problems:
            raise InvalidSnapshot(f"{where} cannot be restored: " + "; ".join(problems))
        return sorted(objects, key=object_key)

    def restore(self, snapshot: Snapshot) -> None:
        objects = self.check(snapshot)
        app = snapshot.app
        self._apps.get(app)  # UnknownApp if the definition is gone
        deployments = [m for m in objects if m["kind"] == DEPLOYMENT.kind]
        for manifest in deployments:
            self._api.apply(manifest)
        for manifest in deployments:
            self._workload.wait(app, deployment_version(manifest))
        for manifest in objects:
            if manifest["kind"] != DEPLOYMENT.kind:
                self._api.apply(manifest)
        wanted = {(m["kind"], m["metadata"]["name"]) for m in objects}
        gone: list[str] = []
        for kind in reversed(APP_KINDS):
            for item in self._api.list_objects(kind, names.app_selector(app)):
                if (kind.kind, item["metadata"]["name"]) not in wanted:
                    self._api.delete(kind, item["metadata"]["name"])
                    if kind is DEPLOYMENT:
                        gone.append(deployment_version(item))
        self._workload.wait_gone(app, gone)
        self._apps.set_stable(app, snapshot.stable_version)


def _shape_problems(objects: list[Any], app: str) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for index, manifest in enumerate(objects):
        if not isinstance(manifest, dict) or not isinstance(manifest.get("metadata"), dict):
            problems.append(f"object {index} is not a manifest")
            continue
        try:
            kind = kind_of(manifest)
        except ValueError as exc:
            problems.append(f"object {index}: {exc}")
            continue
        if kind not in APP_KINDS:
            problems.append(f"object {index}: {kind.kind} is not an app object")
        name = manifest["metadata"].get("name")
        labels = manifest["metadata"].get("labels") or {}
        if not isinstance(name, str) or not name:
            problems.append(f"object {index} ({kind.kind}) has no name")
        elif labels.get(names.APP) != app:
            problems.append(f"{kind.kind} {name} is not labelled {names.APP}={app}")
        key = (kind.kind, str(name))
        if key in seen:
            problems.append(f"{kind.kind} {name} appears twice")
        seen.add(key)
    return problems
