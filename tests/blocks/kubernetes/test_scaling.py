"""HPA and PDB: rendered by app.scaling from the stable version's env, following the stable
Deployment, removed when the definition turns autoscaling off."""

from __future__ import annotations

import pytest
from kubernetes import client

from blocks.errors import TargetError
from blocks.kubernetes.scaling import scaling_objects
from tests.support.k8s_target import SHOP_ENV, TargetFactory, install, read, shop_app


@pytest.mark.parametrize(
    ("env", "bounds"),
    [({"ENVIRONMENT": "staging"}, (2, 5)), ({"ENVIRONMENT": "production"}, (3, 10)),
     ({}, (1, 2)),  # the Settings default: development
     ({"ENVIRONMENT": "staging", "K8S_MIN_REPLICAS": "3", "K8S_MAX_REPLICAS": "8"}, (3, 8))],
)
def test_the_policy_comes_from_the_versions_env(env: dict[str, str],
                                                 bounds: tuple[int, int]) -> None:
    hpa, pdb = scaling_objects(shop_app(), "v1", env, "ns")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == bounds
    assert hpa["metadata"]["name"] == "shop"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "shop-v1"}
    assert pdb["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {
        "floodgate.dev/app": "shop", "floodgate.dev/version": "v1"}}}
    assert pdb["metadata"]["labels"]["floodgate.dev/app"] == "shop"


def test_the_orchestrators_own_environment_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_MIN_REPLICAS", "9")
    monkeypatch.setenv("ENVIRONMENT", "production")
    hpa, _ = scaling_objects(shop_app(), "v1", {"ENVIRONMENT": "staging"}, "ns")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)


@pytest.mark.parametrize(
    "env", [{"ENVIRONMENT": "moon"}, {"K8S_MIN_REPLICAS": "5", "K8S_MAX_REPLICAS": "2"},
            {"K8S_TARGET_CPU_PERCENT": "250"}],
)
def test_a_bad_scaling_env_is_a_clear_error(env: dict[str, str]) -> None:
    with pytest.raises(TargetError, match="autoscaling of shop v1 from its env"):
        scaling_objects(shop_app(), "v1", env, "ns")


@pytest.mark.k8s
def test_hpa_and_pdb_follow_the_stable_version(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    hpa = read(admin_api, "HorizontalPodAutoscaler", namespace, "shop")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "shop-v1"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 10)
    target.ensure_instances("shop", "v2", 3, {**SHOP_ENV, "K8S_MAX_REPLICAS": "6"})
    target.set_weights("shop", {"v2": 100})
    target.mark_stable("shop", "v2")
    hpa = read(admin_api, "HorizontalPodAutoscaler", namespace, "shop")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "shop-v2"
    assert hpa["spec"]["maxReplicas"] == 6  # v2's own env
    pdb = read(admin_api, "PodDisruptionBudget", namespace, "shop")
    assert pdb["spec"]["selector"]["matchLabels"]["floodgate.dev/version"] == "v2"


@pytest.mark.k8s
def test_turning_autoscaling_off_removes_only_floodgates_objects(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    target.register_app(shop_app(autoscaling=False))
    autoscaling = client.AutoscalingV2Api(admin_api)
    policy = client.PolicyV1Api(admin_api)
    assert autoscaling.list_namespaced_horizontal_pod_autoscaler(namespace).items == []
    assert policy.list_namespaced_pod_disruption_budget(namespace).items == []
    foreign = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "shop"},
               "spec": {"minAvailable": 1, "selector": {"matchLabels": {"team": "x"}}}}
    policy.create_namespaced_pod_disruption_budget(namespace, foreign)
    target.mark_stable("shop", "v1")
    assert read(admin_api, "PodDisruptionBudget", namespace, "shop")["spec"]["selector"] == {
        "matchLabels": {"team": "x"}}
