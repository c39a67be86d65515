"""A rollout whose orchestrator is SIGKILLed mid-way resumes from the cluster's record and ends
consistent; the dead orchestrator's Lease only blocks the resume until it expires (2 s here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client

from blocks.errors import AppLocked
from flows.model import Phase, Rollout
from flows.reconcile import Deps
from flows.runner import drive
from tests.support.controlplane import ControlPlane
from tests.support.k8s_driver import HOLDER, LEASE_SECONDS, metrics_for
from tests.support.k8s_target import TargetFactory, app_objects, install, read, shop_app

pytestmark = pytest.mark.k8s
REPO = Path(__file__).resolve().parents[3]


def run_until_killed(cluster: ControlPlane, namespace: str, router: str, strategy: str,
                     metrics: str, failpoint: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FLOODGATE_FAILPOINTS": f"{failpoint}=kill"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.k8s_driver", str(cluster.kubeconfig), namespace,
         router, strategy, metrics],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == -9, f"the driver was not killed:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize(
    ("router", "strategy", "metrics", "failpoint", "saved_phase", "expected"),
    [
        ("nginx", "canary", "healthy", "enter:Shifting", "Shifting", Phase.SUCCEEDED),
        ("gateway-api", "blue-green", "healthy", "done:Preparing", "Preparing", Phase.SUCCEEDED),
        ("replica-ratio", "rolling", "healthy", "enter:Promoting", "Promoting",
         Phase.SUCCEEDED),
        ("replica-ratio", "canary", "failing", "done:RollingBack", "RollingBack",
         Phase.ROLLED_BACK),
    ],
)
def test_a_killed_rollout_resumes_to_a_consistent_end(
    kube_cluster: ControlPlane, make_target: TargetFactory, admin_api: client.ApiClient,
    namespace: str, router: str, strategy: str, metrics: str, failpoint: str,
    saved_phase: str, expected: Phase,
) -> None:
    target = make_target(router=router, lease_duration_seconds=LEASE_SECONDS)
    install(target, shop_app(), "v1")
    target.set_weights("shop", {"v1": 100})
    before = app_objects(admin_api, namespace, "shop")

    run_until_killed(kube_cluster, namespace, router, strategy, metrics, failpoint)

    record = target.load_record("shop")
    assert record is not None
    assert record["phase"] == saved_phase
    # The dead driver's Lease is still valid for up to LEASE_SECONDS.
    with pytest.raises(AppLocked, match=HOLDER), target.lock("shop", "resumer"):
        pass
    deadline = time.monotonic() + 10 * LEASE_SECONDS
    while True:
        try:
            with target.lock("shop", "resumer"):
                final = drive(Rollout.model_validate(target.load_record("shop")),
                              Deps(target=target, metrics=metrics_for(metrics)))
            break
        except AppLocked:
            assert time.monotonic() < deadline, "the killed driver's Lease never expired"
            time.sleep(0.2)

    assert final.phase is expected, final.reason
    lease = read(admin_api, "Lease", namespace, "floodgate-lock-shop")
    assert lease["spec"]["leaseTransitions"] == 1  # taken over once, from the dead driver
    if expected is Phase.SUCCEEDED:
        assert target.describe("shop").stable_version == "v2"
        assert target.get_weights("shop") == {"v2": 100}
        assert {i.version for i in target.instances("shop")} == {"v2"}
        assert len(target.instances("shop")) == 3
    else:
        assert app_objects(admin_api, namespace, "shop") == before
        assert target.describe("shop").stable_version == "v1"
