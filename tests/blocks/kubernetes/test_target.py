"""The Kubernetes target's operations against the real API server, one behaviour at a time."""

from __future__ import annotations

import pytest

from blocks.errors import TargetError, UnknownApp
from tests.support.k8s_target import SHOP_ENV, TargetFactory, install, shop_app

pytestmark = pytest.mark.k8s


def test_describe_reads_the_definition_and_the_stable_version(make_target: TargetFactory,
                                                              namespace: str) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    info = target.describe("shop")
    assert info.stable_version == "v1"
    assert info.replicas == 3
    assert info.entrypoint == f"http://shop.{namespace}.svc.cluster.local:80"
    assert info.preview == f"http://shop-preview.{namespace}.svc.cluster.local:80"
    assert info.env == SHOP_ENV
    assert info.required_config == ("DB",)
    assert target.apps() == ["shop"]
    assert target.inventory() == {"shop": "v1"}


def test_instances_are_pods_by_version_with_readiness(make_target: TargetFactory) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    instances = target.instances("shop")
    assert len(instances) == 3
    assert {i.version for i in instances} == {"v1"}
    assert all(i.ready for i in instances)
    assert all(i.name.startswith("shop-v1-") for i in instances)
    assert all(i.address.endswith(":8000") for i in instances)
    assert target.get_weights("shop") == {"v1": 100}


def test_unknown_app_lists_the_registered_ones(make_target: TargetFactory) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    with pytest.raises(UnknownApp, match=r"no app named 'shoe'.*registered: shop"):
        target.describe("shoe")
    with pytest.raises(UnknownApp):
        target.describe("../etc")


def test_weights_must_sum_to_100_and_name_running_versions(make_target: TargetFactory) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    with pytest.raises(TargetError, match="sum to 100"):
        target.set_weights("shop", {"v1": 90})
    with pytest.raises(TargetError, match="no instances of v9"):
        target.set_weights("shop", {"v1": 90, "v9": 10})
    assert target.get_weights("shop") == {"v1": 100}
