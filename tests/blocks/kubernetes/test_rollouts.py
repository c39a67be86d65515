"""Full rollouts on the real control plane, driven by `flows.runner.drive` with plain steps.

Metrics come from `ScriptedMetrics` (tests/support/memory_target.py), a fake behind our own
`MetricsSource` protocol: kwok pods serve no traffic, so there is nothing real to measure. The
health signal on kwok is readiness (pod Ready conditions): HTTP through the API server proxy is
impossible without containers, and the failing versions use the kwok hook FAULT_UNHEALTHY=1
(the app definition maps it onto `floodgate.test/kwok-ready: "false"`).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

from blocks.kubernetes.target import KubernetesTarget
from blocks.metrics import Measurement
from flows import steps
from flows.model import Phase, Rollout
from flows.reconcile import Deps, Steps
from flows.runner import drive, start_or_resume
from flows.spec import HealthCheck, RolloutSpec, Strategy
from tests.support.k8s_target import (
    UNHEALTHY_ENV,
    TargetFactory,
    app_objects,
    install,
    names_of,
    read,
    shop_app,
)
from tests.support.kwok_stages import NOT_READY_ANNOTATIONS
from tests.support.memory_target import HEALTHY, ScriptedMetrics

pytestmark = pytest.mark.k8s

FAST: dict[str, Any] = {
    "step_interval_seconds": 0,
    "keep_previous_seconds": 0,
    "health": HealthCheck(retries=0, retry_delay_seconds=0),
}


def spec(strategy: Strategy, **overrides: Any) -> RolloutSpec:
    return RolloutSpec(app="shop", version="v2", strategy=strategy, **{**FAST, **overrides})


def run(
    target: KubernetesTarget, rollout_spec: RolloutSpec, metrics: ScriptedMetrics | None = None,
    deps_steps: Steps | None = None,
) -> tuple[Rollout, list[Rollout]]:
    metrics = metrics or ScriptedMetrics({"v1": HEALTHY, "v2": HEALTHY})
    deps = Deps(target=target, metrics=metrics, steps=deps_steps or Steps())
    seen: list[Rollout] = []
    with target.lock("shop", "test driver"):
        final = drive(start_or_resume(rollout_spec, target), deps, on_change=seen.append)
    return final, seen


def served(seen: list[Rollout]) -> list[dict[str, int]]:
    """The distinct weights recorded while the new version was being judged or promoted."""
    out: list[dict[str, int]] = []
    for r in seen:
        active = r.phase in (Phase.ANALYSING, Phase.SUCCEEDED)
        if active and r.weights and (not out or out[-1] != r.weights):
            out.append(r.weights)
    return out


def assert_promoted(target: KubernetesTarget, api: client.ApiClient, namespace: str) -> None:
    assert target.describe("shop").stable_version == "v2"
    assert target.get_weights("shop") == {"v2": 100}
    assert {i.version for i in target.instances("shop")} == {"v2"}
    assert len(target.instances("shop")) == 3
    assert names_of(api, "Deployment", namespace) == ["shop-v2"]
    labels = read(api, "Deployment", namespace, "shop-v2")["metadata"]["labels"]
    assert labels["floodgate.dev/track"] == "stable"
    preview = read(api, "Service", namespace, "shop-preview")
    assert preview["spec"]["selector"]["floodgate.dev/version"] == "v2"
    hpa = read(api, "HorizontalPodAutoscaler", namespace, "shop")  # follows the stable version
    assert hpa["spec"]["scaleTargetRef"]["name"] == "shop-v2"
    pdb = read(api, "PodDisruptionBudget", namespace, "shop")
    assert pdb["spec"]["selector"]["matchLabels"]["floodgate.dev/version"] == "v2"
    assert target.history("shop")[0]["phase"] == "Succeeded"


def test_blue_green_switches_the_service_and_retires_blue(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(router="replica-ratio")
    install(target, shop_app(), "v1")
    live: list[tuple[dict[str, int], str]] = []

    def compare_and_look(rollout: Rollout, metrics: Any, weight: int) -> Any:
        preview = read(admin_api, "Service", namespace, "shop-preview")
        version = preview["spec"]["selector"]["floodgate.dev/version"]
        live.append((target.get_weights("shop"), version))
        return steps.compare_metrics(rollout, metrics, weight)

    final, _ = run(target, spec(Strategy.BLUE_GREEN),
                   deps_steps=Steps(compare_metrics=compare_and_look))
    assert final.phase is Phase.SUCCEEDED, final.reason
    assert [a.weight for a in final.analyses] == [0, 100]
    # Green is judged through the preview while blue serves, then again once switched.
    assert live == [({"v1": 100}, "v2"), ({"v2": 100}, "v2")]
    assert_promoted(target, admin_api, namespace)


@pytest.mark.parametrize(
    ("router", "expected"),
    [
        # 3 replicas: replica_split gives 2+1, 2+1, 1+2 pods; traffic follows the pods.
        ("replica-ratio", [{"v1": 67, "v2": 33}, {"v1": 33, "v2": 67}, {"v2": 100}]),
        ("nginx", [{"v1": 95, "v2": 5}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50},
                   {"v2": 100}]),
        ("gateway-api", [{"v1": 95, "v2": 5}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50},
                         {"v2": 100}]),
    ],
)
def test_canary_promotes_through_every_step_with_each_router(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str, router: str,
    expected: list[dict[str, int]],
) -> None:
    target = make_target(router=router)
    install(target, shop_app(), "v1")
    final, seen = run(target, spec(Strategy.CANARY))
    assert final.phase is Phase.SUCCEEDED, final.reason
    assert len(final.analyses) == 4
    assert served(seen) == expected
    assert_promoted(target, admin_api, namespace)


def test_rolling_replaces_in_batches_never_below_the_replica_count(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(router="nginx")
    install(target, shop_app(), "v1")
    ready_counts: list[dict[str, int]] = []
    ensure = target.ensure_instances

    def counting(app: str, version: str, count: int, env: Any) -> Any:
        result = ensure(app, version, count, env)
        counts: dict[str, int] = {}
        for instance in target.instances(app):
            counts[instance.version] = counts.get(instance.version, 0) + bool(instance.ready)
        ready_counts.append(counts)
        return result

    target.ensure_instances = counting  # type: ignore[method-assign]
    final, _ = run(target, spec(Strategy.ROLLING, batch_size=1))
    assert final.phase is Phase.SUCCEEDED, final.reason
    assert ready_counts[0] == {"v1": 3, "v2": 1}  # surge first: the new pod is Ready first
    assert all(sum(c.values()) >= 3 for c in ready_counts), ready_counts
    assert_promoted(target, admin_api, namespace)


@pytest.mark.parametrize(
    ("strategy", "router"),
    [(Strategy.CANARY, "nginx"), (Strategy.BLUE_GREEN, "gateway-api"),
     (Strategy.ROLLING, "replica-ratio")],
)
def test_a_version_that_never_turns_ready_rolls_back_to_exactly_the_objects_before(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str,
    strategy: Strategy, router: str,
) -> None:
    target = make_target(router=router)
    install(target, shop_app(progress_deadline_seconds=3), "v1")
    target.set_weights("shop", {"v1": 100})  # the router's own objects exist before, too
    before = app_objects(admin_api, namespace, "shop")
    final, _ = run(target, spec(strategy, env=UNHEALTHY_ENV))
    assert final.phase is Phase.ROLLED_BACK
    # Signal: readiness. The Deployment never becomes available; its progress deadline ends
    # the Preparing step with the pods' Ready condition in the reason.
    assert "made no progress within its deadline (3 s)" in final.reason
    assert "not Ready: ContainersNotReady" in final.reason
    assert app_objects(admin_api, namespace, "shop") == before
    assert target.describe("shop").stable_version == "v1"
    assert {i.version for i in target.instances("shop")} == {"v1"}


def test_failed_analysis_rolls_back_to_exactly_the_objects_before(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(router="gateway-api")
    install(target, shop_app(), "v1")
    target.set_weights("shop", {"v1": 100})
    before = app_objects(admin_api, namespace, "shop")
    stable_pods = {i.name for i in target.instances("shop", "v1")}
    metrics = ScriptedMetrics({
        "v1": HEALTHY, "v2": Measurement(requests=300, error_rate=0.3, p95_seconds=0.01)
    })
    final, seen = run(target, spec(Strategy.CANARY), metrics)
    assert final.phase is Phase.ROLLED_BACK
    assert "error rate 30.0%" in final.reason
    assert served(seen) == [{"v1": 95, "v2": 5}]
    assert app_objects(admin_api, namespace, "shop") == before
    assert target.get_weights("shop") == {"v1": 100}
    assert {i.name for i in target.instances("shop")} == stable_pods  # blue never restarted


def test_pods_that_turn_unready_fail_the_health_check_step(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    """Signal: readiness via `probe`. The candidate's pods become Ready (Preparing passes), then
    fail their readiness probe (kwok annotation on the live pods) before the health check."""
    target = make_target(router="nginx")
    install(target, shop_app(), "v1")
    before = app_objects(admin_api, namespace, "shop")
    core = client.CoreV1Api(admin_api)

    def pods_turn_unready_then_check(rollout: Rollout, tgt: KubernetesTarget) -> str:
        for instance in tgt.instances("shop", "v2"):
            core.patch_namespaced_pod(instance.name, namespace,
                                      {"metadata": {"annotations": NOT_READY_ANNOTATIONS}})
        deadline = time.monotonic() + 30
        while any(i.ready for i in tgt.instances("shop", "v2")):
            assert time.monotonic() < deadline, "kwok never marked the pods unready"
            time.sleep(0.1)
        return steps.health_check(rollout, tgt)

    final, _ = run(target, spec(Strategy.CANARY),
                   deps_steps=Steps(health_check=pods_turn_unready_then_check))
    assert final.phase is Phase.ROLLED_BACK
    assert "HealthCheckFailed: 3/3 instances unhealthy" in final.reason
    assert "not Ready: ContainersNotReady" in final.reason
    assert app_objects(admin_api, namespace, "shop") == before
