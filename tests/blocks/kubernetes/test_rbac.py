"""The shipped Role is enough for a full rollout, and confines the orchestrator to its namespace.

deploy/kubernetes/rbac.yaml is applied as shipped (only the namespace substituted); the target
then acts with a token of its ServiceAccount from the TokenRequest API.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from blocks.errors import TargetError
from flows.model import Phase
from flows.reconcile import Deps
from flows.runner import drive, start_or_resume
from flows.spec import HealthCheck, RolloutSpec, Strategy
from tests.support.controlplane import ControlPlane, api_client_for
from tests.support.k8s_target import TargetFactory, shop_app
from tests.support.memory_target import HEALTHY, ScriptedMetrics

pytestmark = pytest.mark.k8s
RBAC = Path(__file__).resolve().parents[3] / "deploy" / "kubernetes" / "rbac.yaml"


def shipped_rbac(namespace: str) -> list[dict[str, Any]]:
    documents = list(yaml.safe_load_all(RBAC.read_text()))
    for document in documents:
        document["metadata"]["namespace"] = namespace
        for subject in document.get("subjects", []):
            subject["namespace"] = namespace
    return documents


def apply_rbac(api: client.ApiClient, namespace: str) -> None:
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    appliers = {
        "ServiceAccount": core.patch_namespaced_service_account,
        "Role": rbac.patch_namespaced_role,
        "RoleBinding": rbac.patch_namespaced_role_binding,
    }
    for document in shipped_rbac(namespace):
        appliers[document["kind"]](
            document["metadata"]["name"], namespace, document, field_manager="test",
            _content_type="application/apply-patch+yaml",
        )


def forbidden(target: Any) -> bool:
    try:
        target.apps()
    except TargetError as exc:
        if "403" in str(exc):
            return True
        raise
    return False


def test_the_shipped_manifest_grants_nothing_cluster_wide() -> None:
    kinds = [d["kind"] for d in yaml.safe_load_all(RBAC.read_text())]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding"]
    role = next(d for d in yaml.safe_load_all(RBAC.read_text()) if d["kind"] == "Role")
    verbs = {verb for rule in role["rules"] for verb in rule["verbs"]}
    assert "*" not in verbs
    assert not {"escalate", "bind", "impersonate", "watch"} & verbs
    assert all("*" not in rule["resources"] for rule in role["rules"])


def test_the_service_account_rolls_out_and_is_refused_elsewhere(
    kube_cluster: ControlPlane, make_target: TargetFactory, admin_api: client.ApiClient,
    namespace: str,
) -> None:
    other = f"{namespace}-other"
    kube_cluster.create_namespace(other)
    apply_rbac(admin_api, namespace)
    kubeconfig = kube_cluster.service_account_kubeconfig(namespace, "floodgate")
    target = make_target(kubeconfig=kubeconfig, router="gateway-api")

    deadline = time.monotonic() + 30  # the authorizer learns RoleBindings from a watch
    while forbidden(target):
        assert time.monotonic() < deadline, "the RoleBinding never took effect"
        time.sleep(0.2)

    app = shop_app()
    target.register_app(app)
    spec = RolloutSpec(app="shop", version="v1", strategy=Strategy.BLUE_GREEN,
                       step_interval_seconds=0, keep_previous_seconds=0,
                       health=HealthCheck(retries=0, retry_delay_seconds=0))
    metrics = ScriptedMetrics({"v1": HEALTHY, "v2": HEALTHY})
    deps = Deps(target=target, metrics=metrics)
    with target.lock("shop", "service account"):
        first = drive(start_or_resume(spec, target), deps)
        assert first.phase is Phase.SUCCEEDED, first.reason
        second = drive(start_or_resume(
            spec.model_copy(update={"version": "v2", "strategy": Strategy.CANARY}), target), deps)
    assert second.phase is Phase.SUCCEEDED, second.reason
    assert target.describe("shop").stable_version == "v2"
    # Health probes went through the pod proxy with the account's own token (pods/proxy).
    probe = target.probe(target.instances("shop")[0], "/health", 2.0)
    assert probe.ok
    assert "via api-proxy" in probe.detail
    assert "forbidden" not in probe.detail

    elsewhere = make_target(kubeconfig=kubeconfig, ns=other)
    with pytest.raises(TargetError, match="403"):
        elsewhere.apps()
    with pytest.raises(TargetError, match="403"):
        elsewhere.register_app(app)
    with api_client_for(kubeconfig) as sa_api, pytest.raises(ApiException) as refused:
        client.AppsV1Api(sa_api).list_namespaced_deployment(other)
    assert refused.value.status == 403
    assert f"system:serviceaccount:{namespace}:floodgate" in str(refused.value.body)
