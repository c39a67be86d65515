"""The test control plane behaves like a cluster in the ways Floodgate relies on: Deployments roll
out onto kwok nodes, Services get endpoints, server-side apply tracks field managers, the Gateway
API is served, ServiceAccount tokens are confined by RBAC, and pods can be made to fail their
readiness check on purpose."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.controlplane import (
    NOT_READY_ANNOTATIONS,
    ControlPlane,
    ControlPlaneMissing,
    api_client_for,
    locate_build,
)
from tests.support.k8s_objects import condition_is, wait_until

pytestmark = pytest.mark.k8s

WAIT = 60.0


@pytest.fixture
def api(kube_cluster: ControlPlane) -> Iterator[client.ApiClient]:
    with kube_cluster.api_client() as api_client:
        yield api_client


@pytest.fixture
def namespace(kube_cluster: ControlPlane) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_namespace(name)
    return name


def deployment(
    name: str, replicas: int, annotations: dict[str, str] | None = None
) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment.model_validate({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations or {}},
                "spec": {"containers": [{"name": "app", "image": "example.invalid/app:1",
                                         "ports": [{"containerPort": 8080}]}]},
            },
        },
    })


def rolled_out(apps: client.AppsV1Api, namespace: str, name: str, replicas: int) -> bool:
    """The Deployment controller saw the latest spec and all replicas are updated and Ready."""
    current = apps.read_namespaced_deployment(name, namespace)
    status, meta = current.status, current.metadata
    return bool(
        status and meta
        and status.observed_generation == meta.generation
        and status.updated_replicas == replicas
        and status.ready_replicas == replicas
        and status.available_replicas == replicas
    )


def pod_status(pod: client.V1Pod) -> client.V1PodStatus:
    assert pod.status is not None, "pod has no status"
    return pod.status


def pod_name(pod: client.V1Pod) -> str:
    assert pod.metadata is not None
    assert pod.metadata.name
    return pod.metadata.name


def pods_of(core: client.CoreV1Api, namespace: str, app: str) -> list[client.V1Pod]:
    return list(core.list_namespaced_pod(namespace, label_selector=f"app={app}").items)


def test_deployment_pods_are_scheduled_on_kwok_nodes_and_become_ready(
    kube_cluster: ControlPlane, api: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))

    wait_until(lambda: rolled_out(apps, namespace, "web", 2), timeout=WAIT,
               what="Deployment web to roll out 2 ready replicas")

    pods = pods_of(core, namespace, "web")
    assert len(pods) == 2
    assert all(pod.spec and pod.spec.node_name in kube_cluster.node_names for pod in pods)
    statuses = [pod_status(pod) for pod in pods]
    assert [s.phase for s in statuses] == ["Running", "Running"]
    assert all(condition_is(s.conditions, "Ready") and s.pod_ip for s in statuses)


def test_service_gets_the_ready_pods_as_endpoints(api: client.ApiClient, namespace: str) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    discovery = client.DiscoveryV1Api(api)
    apps.create_namespaced_deployment(namespace, deployment("shop", replicas=2))
    core.create_namespaced_service(namespace, client.V1Service.model_validate({
        "metadata": {"name": "shop"},
        "spec": {"selector": {"app": "shop"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }))
    wait_until(lambda: rolled_out(apps, namespace, "shop", 2), timeout=WAIT, what="shop rollout")

    def ready_addresses() -> set[str]:
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=shop").items
        return {address for s in slices for e in s.endpoints or []
                if e.conditions and e.conditions.ready for address in e.addresses}

    pod_ips = {pod_status(pod).pod_ip for pod in pods_of(core, namespace, "shop")}
    assert len(pod_ips) == 2
    wait_until(lambda: ready_addresses() == pod_ips, timeout=WAIT,
               what=f"EndpointSlices of Service shop to list {pod_ips}")


def test_server_side_apply_records_the_field_manager_and_detects_conflicts(
    api: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(api)
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "weights"},
                "data": {"canary": "10"}}
    applied = core.patch_namespaced_config_map(
        "weights", namespace, manifest, field_manager="floodgate",
        _content_type="application/apply-patch+yaml")
    assert applied.data == {"canary": "10"}
    assert applied.metadata is not None
    managers = {(f.manager, f.operation) for f in applied.metadata.managed_fields or []}
    assert ("floodgate", "Apply") in managers

    other = {**manifest, "data": {"canary": "50"}}
    with pytest.raises(ApiException) as conflict:
        core.patch_namespaced_config_map("weights", namespace, other, field_manager="someone-else",
                                         _content_type="application/apply-patch+yaml")
    assert conflict.value.status == 409
    assert core.read_namespaced_config_map("weights", namespace).data == {"canary": "10"}

    forced = core.patch_namespaced_config_map(
        "weights", namespace, other, field_manager="someone-else", force=True,
        _content_type="application/apply-patch+yaml")
    assert forced.data == {"canary": "50"}


def http_route(name: str, weights: tuple[int, int]) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name},
        "spec": {
            "parentRefs": [{"name": "edge"}],
            "rules": [{"backendRefs": [{"name": "app-stable", "port": 80, "weight": weights[0]},
                                       {"name": "app-canary", "port": 80, "weight": weights[1]}]}],
        },
    }


def test_gateway_api_httproute_is_served_and_validated(
    api: client.ApiClient, namespace: str
) -> None:
    custom = client.CustomObjectsApi(api)
    group, version = "gateway.networking.k8s.io", "v1"
    custom.create_namespaced_custom_object(group, version, namespace, "httproutes",
                                           http_route("app", (90, 10)))
    stored = custom.get_namespaced_custom_object(group, version, namespace, "httproutes", "app")
    assert isinstance(stored, dict)
    weights = [ref["weight"] for ref in stored["spec"]["rules"][0]["backendRefs"]]
    assert weights == [90, 10]

    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object(group, version, namespace, "httproutes",
                                               http_route("bad", (90, -1)))
    assert invalid.value.status == 422
    extensions = client.ApiextensionsV1Api(api)
    for plural in ("gateways", "gatewayclasses"):
        crd = extensions.read_custom_resource_definition(f"{plural}.{group}")
        assert crd.status is not None
        assert condition_is(crd.status.conditions, "Established")


def test_service_account_token_is_confined_to_its_namespace_by_rbac(
    kube_cluster: ControlPlane, api: client.ApiClient, namespace: str
) -> None:
    other = f"{namespace}-other"
    kube_cluster.create_namespace(other)
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount.model_validate({"metadata": {"name": "deployer"}}))
    rbac.create_namespaced_role(namespace, client.V1Role.model_validate({
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    }))
    rbac.create_namespaced_role_binding(namespace, client.V1RoleBinding.model_validate({
        "metadata": {"name": "deployer-reads-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}],
    }))

    kubeconfig = kube_cluster.service_account_kubeconfig(namespace, "deployer")
    with api_client_for(kubeconfig) as sa_api:
        as_deployer = client.CoreV1Api(sa_api)
        # The authorizer learns about new RoleBindings from a watch: give it a moment.
        wait_until(lambda: _can_list_pods(as_deployer, namespace), timeout=WAIT,
                   what="the RoleBinding to take effect")
        with pytest.raises(ApiException) as forbidden:
            as_deployer.list_namespaced_pod(other)
    assert forbidden.value.status == 403
    assert f"system:serviceaccount:{namespace}:deployer" in str(forbidden.value.body)


def _can_list_pods(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.list_namespaced_pod(namespace)
    except ApiException as error:
        if error.status == 403:
            return False
        raise
    return True


def test_annotated_pods_run_but_fail_readiness_until_the_annotation_goes(
    api: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    sick = deployment("sick", replicas=1, annotations=NOT_READY_ANNOTATIONS)
    apps.create_namespaced_deployment(namespace, sick)

    def running_unready() -> bool:
        pods = pods_of(core, namespace, "sick")
        status = pod_status(pods[0]) if pods else None
        return bool(status and status.phase == "Running"
                    and condition_is(status.conditions, "Ready", "False"))

    wait_until(running_unready, timeout=WAIT, what="the annotated pod to run unready")
    (pod,) = pods_of(core, namespace, "sick")
    assert [s.ready for s in pod_status(pod).container_statuses or []] == [False]
    status = apps.read_namespaced_deployment("sick", namespace).status
    assert status is not None
    assert not status.ready_replicas

    (annotation,) = NOT_READY_ANNOTATIONS
    core.patch_namespaced_pod(pod_name(pod), namespace,
                              {"metadata": {"annotations": {annotation: None}}})
    wait_until(lambda: rolled_out(apps, namespace, "sick", 1), timeout=WAIT,
               what="the pod to turn Ready once the annotation is removed")

    core.patch_namespaced_pod(pod_name(pod), namespace,
                              {"metadata": {"annotations": NOT_READY_ANNOTATIONS}})
    wait_until(running_unready, timeout=WAIT, what="the pod to turn unready again")


def test_a_missing_build_fails_with_the_command_that_builds_it(tmp_path: Path) -> None:
    with pytest.raises(ControlPlaneMissing, match=r"scripts/build-controlplane\.sh") as missing:
        locate_build(str(tmp_path))
    assert "kube-apiserver" in str(missing.value)


def test_stop_leaves_no_process_behind(kube_cluster: ControlPlane, tmp_path: Path) -> None:
    cluster = ControlPlane(tmp_path, kube_cluster.build_dir, node_count=1)
    try:
        cluster.start()
        pids = [process.pid for process in cluster.processes]
        assert len(pids) == 5
        assert all(pid is not None and _alive(pid) for pid in pids)
    finally:
        cluster.stop()
    assert not [pid for pid in pids if pid is not None and _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
