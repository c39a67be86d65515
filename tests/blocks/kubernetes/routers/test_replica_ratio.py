"""replica-ratio: Deployment sizes from replica_split, weights read back from Ready pods."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.blocks.kubernetes.routers._cluster import replicas, selector, with_candidate
from tests.support.k8s_target import TargetFactory


@pytest.mark.k8s
def test_replica_ratio_sizes_deployments_by_replica_split(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = with_candidate(make_target, "replica-ratio")
    target.set_weights("shop", {"v1": 90, "v2": 10})
    assert (replicas(admin_api, namespace, "shop-v1"),
            replicas(admin_api, namespace, "shop-v2")) == (3, 1)
    assert selector(admin_api, namespace, "shop") == {"floodgate.dev/app": "shop"}
    assert target.get_weights("shop") == {"v1": 75, "v2": 25}  # what 3 + 1 pods serve
    target.set_weights("shop", {"v1": 50, "v2": 50})
    assert target.get_weights("shop") == {"v1": 50, "v2": 50}
    target.set_weights("shop", {"v2": 100})
    assert replicas(admin_api, namespace, "shop-v2") == 4
    assert selector(admin_api, namespace, "shop")["floodgate.dev/version"] == "v2"
    assert target.get_weights("shop") == {"v2": 100}


@pytest.mark.k8s
def test_replica_ratio_refuses_to_split_while_a_third_version_runs(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    from blocks.errors import TargetError

    target = with_candidate(make_target, "replica-ratio")
    target.ensure_instances("shop", "v3", 1, {})
    with pytest.raises(TargetError, match="while v3 also runs"):
        target.set_weights("shop", {"v1": 90, "v2": 10})
    assert target.get_weights("shop") == {"v1": 100}
    assert replicas(admin_api, namespace, "shop-v2") == 4
