"""Snapshots are ConfigMaps holding the specs of the app's objects, listed and pruned by age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from kubernetes import client

from blocks.errors import InvalidSnapshot
from tests.support.k8s_target import SHOP_ENV, TargetFactory, install, read, shop_app

pytestmark = pytest.mark.k8s


def test_a_snapshot_holds_every_app_object_and_the_stable_state(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(router="nginx")
    install(target, shop_app(), "v1")
    snapshot = target.snapshot("shop")
    assert snapshot.stable_version == "v1"
    assert snapshot.instances == {"v1": 3}
    assert snapshot.weights == {"v1": 100}
    assert snapshot.env == {"v1": SHOP_ENV}
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in snapshot.payload["objects"])
    assert kinds == [("Deployment", "shop-v1"), ("HorizontalPodAutoscaler", "shop"),
                     ("Ingress", "shop"), ("Ingress", "shop-canary"),
                     ("PodDisruptionBudget", "shop"), ("Service", "shop"),
                     ("Service", "shop-canary"), ("Service", "shop-preview")]
    assert snapshot.checksum == snapshot.compute_checksum()
    stored = read(admin_api, "ConfigMap", namespace, f"floodgate-snapshot-shop-{snapshot.id}")
    assert stored["metadata"]["labels"]["floodgate.dev/part-of"] == "shop"
    assert make_target().get_snapshot("shop", snapshot.id) == snapshot


def test_snapshots_are_listed_newest_first_and_pruned_by_age(make_target: TargetFactory) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    first, second = target.snapshot("shop"), target.snapshot("shop")
    assert [s.id for s in target.snapshots("shop")] == [second.id, first.id]
    assert target.prune_snapshots("shop", timedelta(hours=72)) == []
    assert sorted(target.prune_snapshots("shop", timedelta(0))) == sorted([first.id, second.id])
    assert target.snapshots("shop") == []
    with pytest.raises(InvalidSnapshot, match=f"no snapshot {first.id} for shop"):
        target.get_snapshot("shop", first.id)
