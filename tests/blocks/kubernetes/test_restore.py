"""Restore validates first, then makes the app's objects exactly what they were."""

from __future__ import annotations

import pytest
from kubernetes import client

from blocks.errors import InvalidSnapshot
from tests.support.k8s_target import SHOP_ENV, TargetFactory, app_objects, install, shop_app

pytestmark = pytest.mark.k8s


@pytest.mark.parametrize("router", ["replica-ratio", "nginx", "gateway-api"])
def test_restore_brings_back_exactly_the_objects_of_the_snapshot(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str, router: str
) -> None:
    target = make_target(router=router)
    install(target, shop_app(), "v1")
    before = app_objects(admin_api, namespace, "shop")
    snapshot = target.snapshot("shop")

    target.ensure_instances("shop", "v2", 3, {**SHOP_ENV, "NEW": "1"})
    target.set_preview("shop", "v2")
    target.set_weights("shop", {"v1": 50, "v2": 50})
    target.mark_stable("shop", "v2")
    assert app_objects(admin_api, namespace, "shop") != before

    target.restore(target.get_snapshot("shop", snapshot.id))
    assert app_objects(admin_api, namespace, "shop") == before
    assert target.describe("shop").stable_version == "v1"
    assert {i.version for i in target.instances("shop")} == {"v1"}
    assert target.get_weights("shop") == {"v1": 100}


def test_a_damaged_snapshot_is_refused_before_anything_changes(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    snapshot = target.snapshot("shop")
    target.ensure_instances("shop", "v2", 1, {})
    after_change = app_objects(admin_api, namespace, "shop")
    edited = snapshot.model_copy(update={"stable_version": "v2"})  # checksum no longer matches
    with pytest.raises(InvalidSnapshot, match="fails its checksum"):
        target.restore(edited)
    assert app_objects(admin_api, namespace, "shop") == after_change


def test_a_snapshot_the_api_server_would_refuse_changes_nothing(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    snapshot = target.snapshot("shop")
    objects = [dict(o) for o in snapshot.payload["objects"]]
    service = next(o for o in objects if o["kind"] == "Service")
    service["spec"] = {**service["spec"], "ports": [{"name": "http", "port": 99999}]}
    forged = snapshot.model_copy(
        update={"payload": {**snapshot.payload, "objects": objects}}
    ).sealed()
    target.ensure_instances("shop", "v2", 1, {})
    after_change = app_objects(admin_api, namespace, "shop")
    with pytest.raises(InvalidSnapshot, match="API server refuses it"):
        target.restore(forged)
    assert app_objects(admin_api, namespace, "shop") == after_change
    assert target.describe("shop").stable_version == "v1"


def test_a_snapshot_past_the_retention_is_refused(make_target: TargetFactory) -> None:
    from datetime import UTC, datetime, timedelta

    target = make_target(snapshot_retention_hours=72)
    install(target, shop_app(), "v1")
    snapshot = target.snapshot("shop")
    old = snapshot.model_copy(
        update={"taken_at": datetime.now(UTC) - timedelta(hours=73)}
    ).sealed()
    with pytest.raises(InvalidSnapshot, match="73 h old, past the 72 h retention"):
        target.restore(old)


def test_a_snapshot_of_another_app_or_namespace_is_refused(make_target: TargetFactory) -> None:
    target = make_target()
    install(target, shop_app(), "v1")
    snapshot = target.snapshot("shop")
    moved = snapshot.model_copy(
        update={"payload": {**snapshot.payload, "namespace": "elsewhere"}}
    ).sealed()
    with pytest.raises(InvalidSnapshot, match="namespace 'elsewhere'"):
        target.restore(moved)
    objects = [{**o, "metadata": {**o["metadata"], "labels": {"floodgate.dev/app": "other"}}}
               for o in snapshot.payload["objects"]]
    foreign = snapshot.model_copy(update={"payload": {**snapshot.payload, "objects": objects}})
    with pytest.raises(InvalidSnapshot, match=r"not labelled floodgate\.dev/app=shop"):
        target.restore(foreign.sealed())
