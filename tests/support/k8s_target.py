"""Helpers for testing the Kubernetes target on the test control plane: an app definition with
the kwok fault hook, a way to install a first version, and an independent reading of an app's
objects for before/after comparisons (official typed clients, not the target's own code)."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from blocks.kubernetes.app import EnvAnnotations, KubernetesApp, RouterSettings
from blocks.kubernetes.target import KubernetesTarget
from tests.support.kwok_stages import NOT_READY_ANNOTATIONS

# The kwok test hook: a version whose env has FAULT_UNHEALTHY=1 gets pods that never turn Ready.
FAULT = EnvAnnotations(env="FAULT_UNHEALTHY", equals="1", annotations=NOT_READY_ANNOTATIONS)
UNHEALTHY_ENV = {"FAULT_UNHEALTHY": "1"}


def shop_app(**overrides: Any) -> KubernetesApp:
    fields: dict[str, Any] = {
        "name": "shop",
        "image": "registry.example/shop:{version}",
        "container_port": 8000,
        "replicas": 3,
        "env": {"DB": "postgres://db/shop"},
        "required_config": ["DB"],
        "router": RouterSettings(host="shop.example.test", gateway="edge"),
        "env_annotations": [FAULT],
        "progress_deadline_seconds": 60,
    }
    fields.update(overrides)
    return KubernetesApp(**fields)


def install(target: KubernetesTarget, app: KubernetesApp, version: str) -> None:
    """Register `app` and make `version` its stable, fully served version (a first deploy)."""
    target.register_app(app)
    target.ensure_instances(app.name, version, app.replicas, app.env)
    target.set_weights(app.name, {version: 100})
    target.mark_stable(app.name, version)
    target.set_preview(app.name, None)


SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                   "namespace", "selfLink")


def app_objects(api: client.ApiClient, namespace: str, app: str) -> dict[tuple[str, str], Any]:
    """(kind, name) -> the object's metadata and spec, without server-managed fields."""
    selector = f"floodgate.dev/app={app}"
    found: list[dict[str, Any]] = []
    typed = [
        ("Deployment", client.AppsV1Api(api).list_namespaced_deployment),
        ("Service", client.CoreV1Api(api).list_namespaced_service),
        ("Ingress", client.NetworkingV1Api(api).list_namespaced_ingress),
        ("HorizontalPodAutoscaler",
         client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler),
        ("PodDisruptionBudget", client.PolicyV1Api(api).list_namespaced_pod_disruption_budget),
    ]
    for kind, lister in typed:
        for item in lister(namespace, label_selector=selector).items:
            found.append({"kind": kind, **api.sanitize_for_serialization(item)})
    routes = client.CustomObjectsApi(api).list_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", namespace, "httproutes", label_selector=selector
    )
    found += [{"kind": "HTTPRoute", **route} for route in routes["items"]]
    return {(o["kind"], o["metadata"]["name"]): _comparable(o) for o in found}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_METADATA}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "deployment.kubernetes.io/revision"}
    meta["annotations"] = annotations
    spec = dict(obj.get("spec") or {})
    if obj["kind"] == "Service":
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    return {"metadata": meta, "spec": spec}
