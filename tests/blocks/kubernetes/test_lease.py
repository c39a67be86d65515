"""The per-app lock is a Lease: exclusive, renewed while held, taken over once it expires."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

from blocks.errors import AppLocked
from tests.support.k8s_target import TargetFactory, read


def lease(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    """The Lease's spec."""
    found: dict[str, Any] = read(api, "Lease", namespace, "floodgate-lock-shop")["spec"]
    return found


@pytest.mark.k8s
def test_a_held_lock_refuses_others_and_names_its_holder(make_target: TargetFactory) -> None:
    first, second = make_target(), make_target()
    refused = r"locked by flow run A \[.*expires in"
    with (first.lock("shop", "flow run A"), pytest.raises(AppLocked, match=refused),
          second.lock("shop", "flow run B")):
        pass
    with second.lock("shop", "flow run B"):  # released: no wait
        pass


@pytest.mark.k8s
def test_the_lease_is_renewed_while_held(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(lease_duration_seconds=1)
    with target.lock("shop", "flow run A"):
        before = lease(admin_api, namespace)
        deadline = time.monotonic() + 10
        while lease(admin_api, namespace)["renewTime"] == before["renewTime"]:
            assert time.monotonic() < deadline, "the Lease was never renewed"
            time.sleep(0.1)
        held = lease(admin_api, namespace)
        assert held["holderIdentity"] == before["holderIdentity"]
        assert held["leaseDurationSeconds"] == 1
        # Held past several durations: still ours, so a second orchestrator is refused.
        time.sleep(2.5)
        with pytest.raises(AppLocked), make_target().lock("shop", "flow run B"):
            pass
    assert "holderIdentity" not in lease(admin_api, namespace)


@pytest.mark.k8s
def test_a_lease_nobody_renews_expires_and_is_taken_over(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    dead = make_target(lease_duration_seconds=1)
    lock = dead.lock("shop", "killed orchestrator")
    lock.__enter__()
    dead._leases["shop"]._stop.set()  # the holder stops renewing, as a killed process would
    with pytest.raises(AppLocked, match="killed orchestrator"), make_target().lock("shop", "x"):
        pass
    deadline = time.monotonic() + 10
    while True:
        try:
            with make_target().lock("shop", "next run"):
                spec = lease(admin_api, namespace)
                assert spec["holderIdentity"].startswith("next run")
                assert spec["leaseTransitions"] == 1
            break
        except AppLocked:
            assert time.monotonic() < deadline, "the dead holder's Lease never expired"
            time.sleep(0.2)


@pytest.mark.k8s
def test_a_holder_that_lost_its_lease_may_not_save_records(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(lease_duration_seconds=1)
    with target.lock("shop", "flow run A"):
        client.CoordinationV1Api(admin_api).patch_namespaced_lease(
            "floodgate-lock-shop", namespace, {"spec": {"holderIdentity": "someone else"}}
        )
        deadline = time.monotonic() + 10
        while not target._leases["shop"].lost:
            assert time.monotonic() < deadline, "the takeover went unnoticed"
            time.sleep(0.1)
        with pytest.raises(AppLocked, match="lost the Lease"):
            target.save_record("shop", {"id": "a1"})
    assert target.load_record("shop") is None


@pytest.mark.parametrize(
    ("spec", "expires"),
    [
        ({"holderIdentity": "a", "renewTime": "2026-01-01T00:00:00.000000Z",
          "leaseDurationSeconds": 30}, "2026-01-01T00:00:30+00:00"),
        ({"holderIdentity": "a", "acquireTime": "2026-01-01T00:00:00.000000Z",
          "leaseDurationSeconds": 5}, "2026-01-01T00:00:05+00:00"),
        ({"renewTime": "2026-01-01T00:00:00.000000Z", "leaseDurationSeconds": 30}, None),
        ({"holderIdentity": "a"}, None),
    ],
)
def test_expiry_is_the_last_renewal_plus_the_duration(
    spec: dict[str, object], expires: str | None
) -> None:
    from datetime import datetime

    from blocks.kubernetes.lease import expires_at

    found = expires_at({"spec": spec})
    assert found == (datetime.fromisoformat(expires) if expires else None)
