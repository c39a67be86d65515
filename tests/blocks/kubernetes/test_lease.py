"""The per-app lock is a Lease: exclusive, renewed while held, taken over once it expires."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from blocks.errors import AppLocked
from tests.blocks.kubernetes.conftest import TargetFactory

pytestmark = pytest.mark.k8s


def lease(api: client.ApiClient, namespace: str) -> client.V1Lease:
    return client.CoordinationV1Api(api).read_namespaced_lease("floodgate-lock-shop", namespace)


def test_a_held_lock_refuses_others_and_names_its_holder(make_target: TargetFactory) -> None:
    first, second = make_target(), make_target()
    with first.lock("shop", "flow run A"):
        with pytest.raises(AppLocked, match=r"locked by flow run A \[.*expires in"):
            with second.lock("shop", "flow run B"):
                pass
    with second.lock("shop", "flow run B"):  # released: no wait
        pass


def test_the_lease_is_renewed_while_held(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(lease_duration_seconds=1)
    with target.lock("shop", "flow run A"):
        before = lease(admin_api, namespace).spec
        deadline = time.monotonic() + 10
        while lease(admin_api, namespace).spec.renew_time == before.renew_time:
            assert time.monotonic() < deadline, "the Lease was never renewed"
            time.sleep(0.1)
        held = lease(admin_api, namespace).spec
        assert held.holder_identity == before.holder_identity
        assert held.lease_duration_seconds == 1
        # Held past several durations: still ours, so a second orchestrator is refused.
        time.sleep(2.5)
        with pytest.raises(AppLocked):
            with make_target().lock("shop", "flow run B"):
                pass
    assert lease(admin_api, namespace).spec.holder_identity is None


def test_a_lease_nobody_renews_expires_and_is_taken_over(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    dead = make_target(lease_duration_seconds=1)
    lock = dead.lock("shop", "killed orchestrator")
    lock.__enter__()
    dead._leases["shop"]._stop.set()  # the holder stops renewing, as a killed process would
    with pytest.raises(AppLocked, match="killed orchestrator"):
        with make_target().lock("shop", "next run"):
            pass
    deadline = time.monotonic() + 10
    while True:
        try:
            with make_target().lock("shop", "next run"):
                spec = lease(admin_api, namespace).spec
                assert spec.holder_identity.startswith("next run")
                assert spec.lease_transitions == 1
            break
        except AppLocked:
            assert time.monotonic() < deadline, "the dead holder's Lease never expired"
            time.sleep(0.2)


def test_a_holder_that_lost_its_lease_may_not_save_records(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(lease_duration_seconds=1)
    with target.lock("shop", "flow run A"):
        body = lease(admin_api, namespace)
        body.spec.holder_identity = "someone else"
        client.CoordinationV1Api(admin_api).replace_namespaced_lease(
            "floodgate-lock-shop", namespace, body
        )
        deadline = time.monotonic() + 10
        while not target._leases["shop"].lost:
            assert time.monotonic() < deadline, "the takeover went unnoticed"
            time.sleep(0.1)
        with pytest.raises(AppLocked, match="lost the Lease"):
            target.save_record("shop", {"id": "a1"})
    assert target.load_record("shop") is None
