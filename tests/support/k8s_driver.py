"""A rollout driven in its own process, so a test can SIGKILL it mid-way (with the failpoints
of flows/failpoints.py) and resume from what the cluster stores.

    python -m tests.support.k8s_driver KUBECONFIG NAMESPACE ROUTER STRATEGY METRICS

METRICS is `healthy` or `failing` (the candidate's error rate is 30 %); metrics come from the
fake `ScriptedMetrics`, behind our own MetricsSource protocol.
"""

from __future__ import annotations

import sys
from pathlib import Path

from blocks.kubernetes.settings import TargetSettings
from blocks.kubernetes.target import KubernetesTarget
from blocks.metrics import Measurement
from flows.reconcile import Deps
from flows.runner import drive, start_or_resume
from flows.spec import HealthCheck, RolloutSpec, Strategy
from tests.support.controlplane import api_client_for
from tests.support.memory_target import HEALTHY, ScriptedMetrics

LEASE_SECONDS = 2
HOLDER = "killed driver"


def metrics_for(kind: str) -> ScriptedMetrics:
    if kind == "healthy":
        return ScriptedMetrics({"v1": HEALTHY, "v2": HEALTHY})
    return ScriptedMetrics({
        "v1": HEALTHY, "v2": Measurement(requests=300, error_rate=0.3, p95_seconds=0.01)
    })


def rollout_spec(strategy: str) -> RolloutSpec:
    return RolloutSpec(
        app="shop", version="v2", strategy=Strategy(strategy), step_interval_seconds=0,
        keep_previous_seconds=0, health=HealthCheck(retries=0, retry_delay_seconds=0),
    )


def target_for(kubeconfig: str, namespace: str, router: str) -> KubernetesTarget:
    settings = TargetSettings(router=router, lease_duration_seconds=LEASE_SECONDS,
                              wait_timeout_seconds=90, poll_seconds=0.1)
    return KubernetesTarget(api_client_for(Path(kubeconfig)), namespace, settings)


def main(argv: list[str]) -> int:
    kubeconfig, namespace, router, strategy, metrics = argv
    target = target_for(kubeconfig, namespace, router)
    deps = Deps(target=target, metrics=metrics_for(metrics))
    with target.lock("shop", HOLDER):
        final = drive(start_or_resume(rollout_spec(strategy), target), deps)
    print(final.phase, final.reason)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
