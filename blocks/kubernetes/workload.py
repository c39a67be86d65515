"""The pods of an app: one Deployment per version, sized, waited on, listed and retired.

Every change waits for the Deployment to be rolled out (see `rollout_status`), so a caller that
returns has Ready pods: rolling batches get readiness between batches for free, and surge-first
holds because the flows grow the new version (and wait) before they shrink the old one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.health import pod_readiness
from blocks.kubernetes.kinds import DEPLOYMENT, POD
from blocks.kubernetes.manifests import (
    VERSION_ANNOTATION,
    deployment_env,
    deployment_manifest,
    deployment_version,
)
from blocks.kubernetes.rollout_status import wait_rolled_out
from blocks.target import Instance

JSON = dict[str, Any]


@dataclass(frozen=True)
class Waits:
    """How long to wait for the cluster, and how often to look."""

    timeout_seconds: float = 900.0
    poll_seconds: float = 0.2


class Workload:
    def __init__(self, api: KubeApi, waits: Waits) -> None:
        self._api = api
        self._waits = waits

    # Reads -------------------------------------------------------------------------------------

    def deployments(self, app: str) -> dict[str, JSON]:
        """version -> Deployment of every version of the app."""
        found = self._api.list_objects(DEPLOYMENT, names.app_selector(app))
        return {deployment_version(d): d for d in found}

    def deployment(self, app: str, version: str) -> JSON | None:
        return self._api.get(DEPLOYMENT, names.deployment_name(app, version))

    def pods(
        self, app: str, version: str | None = None, *, terminating: bool = False
    ) -> list[JSON]:
        selector = names.app_selector(app)
        if version is not None:
            selector += f",{names.VERSION}={names.version_label(version)}"
        pods = self._api.list_objects(POD, selector)
        if not terminating:
            pods = [p for p in pods if not p.get("metadata", {}).get("deletionTimestamp")]
        return sorted(pods, key=lambda p: str(p["metadata"]["name"]))

    def instances(self, app: str, version: str | None = None) -> list[Instance]:
        return [_instance(app, pod) for pod in self.pods(app, version)]

    # Changes -----------------------------------------------------------------------------------

    def ensure(
        self, app: KubernetesApp, version: str, count: int, env: dict[str, str], track: str
    ) -> None:
        """Exactly `count` Ready pods of `version` (0 deletes its Deployment).

        A version that already runs with this env is only resized: shrinking the old version of
        a rolling rollout must not restart its pods because the app definition changed since.
        """
        if count < 0:
            raise TargetError(f"instance count must be >= 0, got {count}")
        if count == 0:
            self.retire(app.name, version)
            return
        manifest = deployment_manifest(app, version, count, env, track)  # validates first
        current = self.deployment(app.name, version)
        if current is not None and deployment_env(current) == env:
            self.scale(app.name, version, count)
            return
        self._api.apply(manifest)
        self.wait(app.name, version)

    def scale(self, app: str, version: str, count: int) -> None:
        """Change only the replica count (the pod template stays as it is: no restarts)."""
        name = names.deployment_name(app, version)
        if self._api.get(DEPLOYMENT, name) is None:
            raise TargetError(f"no instances of {version} to scale: Deployment {name} is missing")
        self._api.merge_patch(DEPLOYMENT, name, {"spec": {"replicas": count}})
        self.wait(app, version)

    def set_track(self, app: str, version: str, track: str) -> None:
        name = names.deployment_name(app, version)
        if self._api.get(DEPLOYMENT, name) is not None:
            self._api.merge_patch(DEPLOYMENT, name, {"metadata": {"labels": {names.TRACK: track}}})

    def wait(self, app: str, version: str) -> None:
        name = names.deployment_name(app, version)
        wait_rolled_out(
            lambda: self._api.get(DEPLOYMENT, name), name,
            timeout=self._waits.timeout_seconds, poll=self._waits.poll_seconds,
            explain=lambda: self.explain(app, version),
        )

    def retire(self, app: str, version: str) -> None:
        """Delete the version's Deployment and wait until its pods are gone."""
        self._api.delete(DEPLOYMENT, names.deployment_name(app, version))
        self.wait_gone(app, [version])

    def wait_gone(self, app: str, versions: list[str]) -> None:
        deadline = time.monotonic() + self._waits.timeout_seconds
        for version in versions:
            while self.pods(app, version, terminating=True):
                if time.monotonic() > deadline:
                    raise TargetError(f"pods of {app} {version} still exist after "
                                      f"{self._waits.timeout_seconds:.0f} s")
                time.sleep(self._waits.poll_seconds)

    def explain(self, app: str, version: str) -> str:
        """Why pods of `version` are not Ready, from the first one that is not."""
        pods = self.pods(app, version)
        unready = [(p, why) for p in pods for ready, why in [pod_readiness(p)] if not ready]
        if not pods:
            return "no pods exist"
        if not unready:
            return ""
        pod, why = unready[0]
        return f"{len(unready)}/{len(pods)} pods not Ready, e.g. {pod['metadata']['name']}: {why}"


def _instance(app: str, pod: JSON) -> Instance:
    meta = pod["metadata"]
    version = (meta.get("annotations") or {}).get(VERSION_ANNOTATION) or (
        meta.get("labels") or {}
    ).get(names.VERSION, "")
    ready, _ = pod_readiness(pod)
    ip = (pod.get("status") or {}).get("podIP") or "pending"
    return Instance(app, str(version), str(meta["name"]), f"{ip}:{_port(pod)}", ready=ready)


def _port(pod: JSON) -> int:
    for container in pod.get("spec", {}).get("containers", []):
        for port in container.get("ports") or []:
            if port.get("name") == "http":
                return int(port["containerPort"])
    return 0
