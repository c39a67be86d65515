"""Instances: one Deployment per version, sized exactly, waited on, retired."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from blocks.errors import TargetError
from tests.support.k8s_target import SHOP_ENV, TargetFactory, install, names_of, read, shop_app

pytestmark = pytest.mark.k8s


def deployment(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return read(api, "Deployment", namespace, name)


def test_ensure_instances_is_exact_and_idempotent(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    target.register_app(shop_app())
    instances = target.ensure_instances("shop", "v2", 2, {"DB": "x"})
    assert len(instances) == 2
    assert all(i.ready for i in instances)
    generation = deployment(admin_api, namespace, "shop-v2")["metadata"]["generation"]
    assert target.ensure_instances("shop", "v2", 2, {"DB": "x"}) == instances  # no restart
    assert deployment(admin_api, namespace, "shop-v2")["metadata"]["generation"] == generation
    managers = {(f["manager"], f["operation"]) for f in
                deployment(admin_api, namespace, "shop-v2")["metadata"]["managedFields"]}
    assert ("floodgate", "Apply") in managers
    assert len(target.ensure_instances("shop", "v2", 4, {"DB": "x"})) == 4
    assert len(target.ensure_instances("shop", "v2", 1, {"DB": "x"})) == 1
    assert target.ensure_instances("shop", "v2", 0, {"DB": "x"}) == []
    assert names_of(admin_api, "Deployment", namespace) == []


def test_a_changed_definition_does_not_restart_a_running_version(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    pods = {i.name for i in target.instances("shop", "v1")}
    target.register_app(shop_app(health_path="/ready", image="registry.example/s2:{version}"))
    assert target.describe("shop").stable_version == "v1"  # re-registering keeps it
    target.ensure_instances("shop", "v1", 2, SHOP_ENV)  # a rolling shrink
    assert {i.name for i in target.instances("shop", "v1")} < pods
    image = deployment(admin_api, namespace, "shop-v1")["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert image == "registry.example/shop:v1"


def test_new_env_replaces_the_pods_of_the_version(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    target.register_app(shop_app())
    old = {i.name for i in target.ensure_instances("shop", "v2", 2, {"DB": "x"})}
    new = target.ensure_instances("shop", "v2", 2, {"DB": "y"})
    assert len(new) == 2
    assert not old & {i.name for i in new}
    assert all(i.ready for i in new)
    spec = deployment(admin_api, namespace, "shop-v2")["spec"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_retire_stops_every_instance_but_never_a_serving_version(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    target.ensure_instances("shop", "v2", 1, {})
    with pytest.raises(TargetError, match="v1 still serves 100%"):
        target.retire("shop", "v1")
    target.retire("shop", "v2")
    assert target.instances("shop", "v2") == []
    assert names_of(admin_api, "Pod", namespace, "floodgate.dev/version=v2") == []
    target.retire("shop", "v2")  # nothing left: a no-op


def test_mark_stable_moves_the_track_label(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    target.ensure_instances("shop", "v2", 1, {})
    track = "floodgate.dev/track"
    assert deployment(admin_api, namespace, "shop-v2")["metadata"]["labels"][track] == "canary"
    target.mark_stable("shop", "v2")
    assert deployment(admin_api, namespace, "shop-v2")["metadata"]["labels"][track] == "stable"
    assert deployment(admin_api, namespace, "shop-v1")["metadata"]["labels"][track] == "canary"
    assert target.describe("shop").stable_version == "v2"


def test_a_version_kubernetes_cannot_label_is_refused_before_any_change(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    target.register_app(shop_app())
    with pytest.raises(TargetError, match="cannot be a Kubernetes label value"):
        target.ensure_instances("shop", "v2-", 1, {})
    assert names_of(admin_api, "Deployment", namespace) == []


def test_preview_follows_the_candidate_then_the_stable_version(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    target.ensure_instances("shop", "v2", 1, {})
    target.set_preview("shop", "v2")

    def preview() -> str:
        service = read(admin_api, "Service", namespace, "shop-preview")
        return str(service["spec"]["selector"]["floodgate.dev/version"])

    assert preview() == "v2"
    target.set_preview("shop", None)
    assert preview() == "v1"
