"""Helpers for testing the Kubernetes target on the test control plane: an app definition with
the kwok fault hook, a way to install a first version, and an independent reading of an app's
objects for before/after comparisons (official typed clients, not the target's own code)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes import client

from blocks.kubernetes.app import EnvAnnotations, KubernetesApp, RouterSettings
from blocks.kubernetes.settings import TargetSettings
from blocks.kubernetes.target import KubernetesTarget
from tests.support.controlplane import ControlPlane, api_client_for
from tests.support.kwok_stages import NOT_READY_ANNOTATIONS

# The kwok test hook: a version whose env has FAULT_UNHEALTHY=1 gets pods that never turn Ready.
FAULT = EnvAnnotations(env="FAULT_UNHEALTHY", equals="1", annotations=NOT_READY_ANNOTATIONS)
UNHEALTHY_ENV = {"FAULT_UNHEALTHY": "1"}

# make_target(kubeconfig=None, ns=None, **TargetSettings fields) -> KubernetesTarget
TargetFactory = Callable[..., KubernetesTarget]


# The app's own scaling settings (app.config.Settings): HPA 1-10 replicas, so the HPA
# controller never resizes a test Deployment (it pulls replicas into [min, max] even without
# metrics), PDB minAvailable 1.
SHOP_ENV = {"DB": "postgres://db/shop", "ENVIRONMENT": "development", "K8S_MAX_REPLICAS": "10"}


def shop_app(**overrides: Any) -> KubernetesApp:
    """App `shop`: 3 replicas, HPA and PDB on, the kwok fault hook."""
    fields: dict[str, Any] = {
        "name": "shop",
        "image": "registry.example/shop:{version}",
        "container_port": 8000,
        "replicas": 3,
        "env": dict(SHOP_ENV),
        "autoscaling": True,
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


def read(api: client.ApiClient, kind: str, namespace: str, name: str) -> dict[str, Any]:
    """One object as the API serves it, as a plain camelCase dict (official typed clients)."""
    readers: dict[str, Callable[[str, str], Any]] = {
        "Deployment": client.AppsV1Api(api).read_namespaced_deployment,
        "Service": client.CoreV1Api(api).read_namespaced_service,
        "Ingress": client.NetworkingV1Api(api).read_namespaced_ingress,
        "ConfigMap": client.CoreV1Api(api).read_namespaced_config_map,
        "Lease": client.CoordinationV1Api(api).read_namespaced_lease,
        "HorizontalPodAutoscaler":
            client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler,
        "PodDisruptionBudget": client.PolicyV1Api(api).read_namespaced_pod_disruption_budget,
    }
    if kind == "HTTPRoute":
        found: Any = client.CustomObjectsApi(api).get_namespaced_custom_object(
            "gateway.networking.k8s.io", "v1", namespace, "httproutes", name)
        return dict(found)
    return as_dict(api, readers[kind](name, namespace))


def as_dict(api: client.ApiClient, model: Any) -> dict[str, Any]:
    serialized: dict[str, Any] = api.sanitize_for_serialization(model)  # type: ignore[no-untyped-call]
    return serialized


def names_of(api: client.ApiClient, kind: str, namespace: str, selector: str = "") -> list[str]:
    """Names of the Deployments or Pods in `namespace` matching `selector`."""
    listers: dict[str, Callable[..., Any]] = {
        "Deployment": client.AppsV1Api(api).list_namespaced_deployment,
        "Pod": client.CoreV1Api(api).list_namespaced_pod,
    }
    items = listers[kind](namespace, label_selector=selector).items
    return sorted(as_dict(api, item)["metadata"]["name"] for item in items)


SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                   "namespace", "selfLink")


def app_objects(api: client.ApiClient, namespace: str, app: str) -> dict[tuple[str, str], Any]:
    """(kind, name) -> the object's metadata and spec, without server-managed fields."""
    selector = f"floodgate.dev/app={app}"
    found: list[dict[str, Any]] = []
    typed: list[tuple[str, Callable[..., Any]]] = [
        ("Deployment", client.AppsV1Api(api).list_namespaced_deployment),
        ("Service", client.CoreV1Api(api).list_namespaced_service),
        ("Ingress", client.NetworkingV1Api(api).list_namespaced_ingress),
        ("HorizontalPodAutoscaler",
         client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler),
        ("PodDisruptionBudget", client.PolicyV1Api(api).list_namespaced_pod_disruption_budget),
    ]
    for kind, lister in typed:
        for item in lister(namespace, label_selector=selector).items:
            found.append({"kind": kind, **as_dict(api, item)})
    routes: Any = client.CustomObjectsApi(api).list_namespaced_custom_object(
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


@contextmanager
def kubernetes_harness_parts(
    cluster: ControlPlane, router: str
) -> Iterator[tuple[KubernetesTarget, str, Callable[[str], None], Callable[[], None]]]:
    """(target, app, ready, reset) for the Target contract tests: `shop` v1 stable with all
    traffic, in a namespace of its own on `cluster`."""
    namespace = f"contract-{uuid.uuid4().hex[:8]}"
    cluster.create_namespace(namespace)
    api = api_client_for(cluster.kubeconfig)
    settings = TargetSettings(router=router, lease_duration_seconds=2, wait_timeout_seconds=90,
                              poll_seconds=0.1)
    target = KubernetesTarget(api, namespace, settings)
    app = shop_app(replicas=2)
    install(target, app, "v1")

    def ready(version: str) -> None:
        target.workload.wait(app.name, version)

    def reset() -> None:
        target.ensure_instances(app.name, "v1", app.replicas, app.env)
        target.set_weights(app.name, {"v1": 100})
        target.set_preview(app.name, None)
        target.mark_stable(app.name, "v1")
        for version in target.workload.deployments(app.name):
            if version != "v1":
                target.retire(app.name, version)

    try:
        yield target, app.name, ready, reset
    finally:
        api.close()  # type: ignore[no-untyped-call]
