"""Pure manifest rendering (and reading back) for an app's Deployments, Services and ConfigMaps.

Everything here is a function of the app definition and the arguments: no API calls, so the
shapes are table-tested and applying the same inputs twice is a server-side no-op (env is
sorted, optional keys are left out rather than emptied).
"""

from __future__ import annotations

from typing import Any

from blocks.kubernetes import names
from blocks.kubernetes.app import KubernetesApp

JSON = dict[str, Any]
VERSION_ANNOTATION = "floodgate.dev/version"
ROLE = "floodgate.dev/role"
NOTHING = {"floodgate.dev/selects": "nothing"}  # a selector no pod matches


def deployment_manifest(
    app: KubernetesApp, version: str, replicas: int, env: dict[str, str], track: str
) -> JSON:
    """Deployment `<app>-<version>`: surge-first updates, readiness on the health path."""
    pod = {**names.app_labels(app.name), **names.pod_labels(app.name, version)}
    container: JSON = {
        "name": "app",
        "image": app.image_for(version),
        "ports": [{"name": "http", "containerPort": app.container_port, "protocol": "TCP"}],
        "env": [{"name": key, "value": value} for key, value in sorted(env.items())],
        "readinessProbe": {
            "httpGet": {"path": app.health_path, "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
    }
    if app.resources:
        container["resources"] = app.resources
    template_meta: JSON = {"labels": pod}
    annotations = app.annotations_for(env)
    if annotations:
        template_meta["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": names.deployment_name(app.name, version),
            "labels": {**names.app_labels(app.name), names.VERSION: names.version_label(version),
                       names.TRACK: track},
            "annotations": {VERSION_ANNOTATION: version},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": names.pod_labels(app.name, version)},
            "progressDeadlineSeconds": app.progress_deadline_seconds,
            "revisionHistoryLimit": 2,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
            },
            "template": {"metadata": template_meta, "spec": {"containers": [container]}},
        },
    }


def version_selector(app: str, version: str | None) -> dict[str, str]:
    """Pods of one version; with None, pods of every version of the app."""
    if version is None:
        return {names.APP: app}
    return names.pod_labels(app, version)


def service_manifest(app: KubernetesApp, name: str, role: str, selector: dict[str, str]) -> JSON:
    """A ClusterIP Service on the app's port, selecting `selector`."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {**names.app_labels(app.name), ROLE: role}},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": app.service_port, "targetPort": "http",
                       "protocol": "TCP"}],
        },
    }


def config_map_manifest(
    name: str, labels: dict[str, str], data: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> JSON:
    metadata: JSON = {"name": name, "labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    manifest: JSON = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    if data is not None:
        manifest["data"] = data
    return manifest


# Reading back ----------------------------------------------------------------------------------


def deployment_version(deployment: JSON) -> str:
    meta = deployment.get("metadata", {})
    version = (meta.get("annotations") or {}).get(VERSION_ANNOTATION)
    return str(version or (meta.get("labels") or {}).get(names.VERSION, ""))


def deployment_env(deployment: JSON) -> dict[str, str]:
    """The env of the app container, as `ensure_instances` was given it."""
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get(
        "containers", []
    )
    for container in containers:
        if container.get("name") == "app":
            return {e["name"]: str(e.get("value", "")) for e in container.get("env") or []}
    return {}


def deployment_replicas(deployment: JSON) -> int:
    return int(deployment.get("spec", {}).get("replicas", 1))


def selected_version(service: JSON | None) -> tuple[bool, str | None]:
    """(exists, version) of a Service: version None means it selects every version (or none)."""
    if service is None:
        return False, None
    selector = service.get("spec", {}).get("selector") or {}
    return True, selector.get(names.VERSION)


def service_url(app: KubernetesApp, name: str, namespace: str) -> str:
    return f"http://{name}.{namespace}.svc.cluster.local:{app.service_port}"
