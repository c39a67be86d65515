"""Rollouts under steady load on the local target: failed requests, switch and rollback times.

A fresh local stack (nginx, Prometheus at 1 s scrapes, fraud-api v1 x2) serves paced client
traffic (default 150 req/s on the entry port, 20 req/s on the preview port) while real rollouts
run through `flows.runner.drive` with the real Prometheus analysis:

* canary, blue-green and rolling rollouts of a healthy version — failed requests (goal: 0);
* the blue-green switch — from the decision (the shift step starts) until every NEW request
  reaches green; goal: under 100 ms. Two readings: "served", when nginx reports the new weights
  (the step returns), and "last old", the start of the last request after the decision that
  still reached blue (0 when none did; at 150 req/s requests start ~7 ms apart);
* a canary with 30 % errors — from the failed analysis (the verdict is returned) until the canary
  gets 0 % of new requests; goal: under 1 s. "served" is when the rollback step has nginx serving
  100 % stable; "last old" the start of the last request that still reached the canary.

The peer in the same run is the same product with nginx's reload router instead of the Lua
router (default), so the ratio shows what the run-time switch buys.

Run: python bench/rollout_under_load.py [--rate 150] [--routers lua,reload]
Prints numbers only (no asserts).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.traffic import Traffic
from blocks.local.settings import LocalSettings, RouterName
from blocks.local.stack import LocalStack
from blocks.policy import AnalysisPolicy
from blocks.prometheus import PrometheusMetricsSource
from examples.fraud_api.local import fraud_api_app
from flows import steps
from flows.analysis import Decision
from flows.reconcile import Deps, Steps
from flows.runner import drive, start_or_resume
from flows.spec import HealthCheck, RolloutSpec, Strategy
from tests.support.ports import free_port

APP = "fraud-api"


@dataclass
class Timings:
    """Moments the wrapped steps saw (monotonic clock, same as the traffic log)."""

    switch_decision: float | None = None
    switch_served: float | None = None
    rollback_decision: float | None = None
    rollback_served: float | None = None


def timed_steps(timings: Timings) -> Steps:
    def shift_traffic(rollout: Any, target: Any, weights: dict[str, int]) -> dict[str, int]:
        switching = rollout.spec.strategy is Strategy.BLUE_GREEN and weights.get(rollout.version)
        if switching == 100:
            timings.switch_decision = time.monotonic()
        served = steps.shift_traffic(rollout, target, weights)
        if switching == 100:
            timings.switch_served = time.monotonic()
        return served

    def roll_back(rollout: Any, target: Any) -> str:
        detail = steps.roll_back(rollout, target)
        timings.rollback_served = time.monotonic()
        return detail

    def compare_metrics(rollout: Any, metrics: Any, weight: int) -> Any:
        outcome, record = steps.compare_metrics(rollout, metrics, weight)
        if outcome.decision is Decision.ROLL_BACK:
            timings.rollback_decision = time.monotonic()
        return outcome, record

    return replace(
        Steps(), shift_traffic=shift_traffic, compare_metrics=compare_metrics, roll_back=roll_back
    )


@dataclass
class Result:
    router: str
    case: str
    outcome: str
    seconds: float
    requests: int
    failed_entry: int
    failed_preview: int
    served_ms: float | None  # decision -> nginx serves the switch / the rollback
    last_old_ms: float | None  # decision -> last new request that reached the old version


def last_after(traffic: Traffic, since: float, version: str) -> float:
    """ms from `since` to the start of the last request that still reached `version`."""
    late = [t for t, v in traffic.log if t >= since and v == version]
    return (max(late) - since) * 1000 if late else 0.0


def run_case(
    router: str, case: str, spec: RolloutSpec, deps: Deps, timings: Timings, traffic: Traffic,
    preview: Traffic,
) -> Result:  # fmt: skip
    before_log = len(traffic.log)
    before_entry, before_preview = len(traffic.failures), len(preview.failures)
    began = time.monotonic()
    final = drive(start_or_resume(spec, deps.target), deps, sleep=time.sleep)
    seconds = time.monotonic() - began
    time.sleep(1.0)  # let requests started around the end finish
    served = last_old = None
    if case == "blue-green" and timings.switch_decision and timings.switch_served:
        served = (timings.switch_served - timings.switch_decision) * 1000
        last_old = last_after(traffic, timings.switch_decision, final.from_version or "")
    if case.startswith("faulty") and timings.rollback_decision and timings.rollback_served:
        served = (timings.rollback_served - timings.rollback_decision) * 1000
        last_old = last_after(traffic, timings.rollback_decision, spec.version)
    return Result(
        router, case, final.phase.value, seconds, len(traffic.log) - before_log,
        len(traffic.failures) - before_entry, len(preview.failures) - before_preview,
        served, last_old,
    )  # fmt: skip


def bench_router(router: RouterName, rate: float) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix=f"rollout-{router}-") as tmp:
        settings = LocalSettings(
            state_dir=Path(tmp), admin_port=free_port(), prometheus_port=free_port(),
            router=router, loadgen_enabled=False, scrape_interval_seconds=1,
        )  # fmt: skip
        app = fraud_api_app(entry_port=free_port(), preview_port=free_port(), replicas=2)
        stack = LocalStack(settings)
        try:
            stack.up([app])
            metrics = PrometheusMetricsSource(f"http://127.0.0.1:{settings.prometheus_port}")
            fast = {
                "steps": [5, 10, 50, 100],
                "step_interval_seconds": 4,
                "keep_previous_seconds": 4,
                "health": HealthCheck(retries=30, retry_delay_seconds=0.5),
                "analysis": AnalysisPolicy(window_seconds=8, min_requests=5),
            }
            cases = [
                ("canary", RolloutSpec(app=APP, version="v2", strategy=Strategy.CANARY, **fast)),
                ("blue-green",
                 RolloutSpec(app=APP, version="v3", strategy=Strategy.BLUE_GREEN, **fast)),
                ("rolling", RolloutSpec(app=APP, version="v4", strategy=Strategy.ROLLING, **fast)),
                ("faulty canary (30% errors)",
                 RolloutSpec(app=APP, version="v5", strategy=Strategy.CANARY,
                             env={"FAULT_ERROR_RATE": "0.3"}, **fast)),
            ]  # fmt: skip
            results = []
            entry = f"http://127.0.0.1:{app.entry_port}"
            preview_url = f"http://127.0.0.1:{app.preview_port}"
            with Traffic(entry, rate) as traffic, Traffic(preview_url, 20, threads=2) as preview:
                time.sleep(3)  # a few scrapes of the baseline first
                for case, spec in cases:
                    timings = Timings()
                    deps = Deps(stack.target, metrics, timed_steps(timings))
                    result = run_case(router, case, spec, deps, timings, traffic, preview)
                    results.append(result)
                    print(f"  {router:<6} {case:<27} {result.outcome:<10} "
                          f"{result.seconds:5.1f} s", flush=True)  # fmt: skip
            achieved = traffic.achieved_rate(time.monotonic() - 5)
            print(f"  {router}: client rate over the last 5 s {achieved:.0f} req/s", flush=True)
            return results
        finally:
            stack.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rate", type=float, default=150.0, help="entry-port requests/s")
    parser.add_argument("--routers", default="lua,reload")
    args = parser.parse_args()
    routers: list[RouterName] = [r for r in ("lua", "reload") if r in args.routers.split(",")]
    results = [r for router in routers for r in bench_router(router, args.rate)]

    print()
    print(f"{'router':<7}{'rollout':<28}{'outcome':<11}{'time':>7}{'requests':>9}"
          f"{'failed entry/preview':>22}{'served':>9}{'last old':>10}")  # fmt: skip
    for r in results:
        served = "-" if r.served_ms is None else f"{r.served_ms:.0f} ms"
        last = "-" if r.last_old_ms is None else f"{r.last_old_ms:.0f} ms"
        print(f"{r.router:<7}{r.case:<28}{r.outcome:<11}{r.seconds:6.1f}s{r.requests:>9}"
              f"{r.failed_entry:>13}/{r.failed_preview:<8}{served:>9}{last:>10}")  # fmt: skip
    by = {(r.router, r.case): r for r in results}
    for case, goal in (("blue-green", 100), ("faulty canary (30% errors)", 1000)):
        lua, reload = by.get(("lua", case)), by.get(("reload", case))
        if lua and reload and lua.served_ms and reload.served_ms:
            print(f"{case}: served after {lua.served_ms:.0f} ms (lua) vs {reload.served_ms:.0f} "
                  f"ms (reload), ratio {lua.served_ms / reload.served_ms:.2f}; goal < {goal} ms")
    print("failed entry requests of the faulty canary are its injected 500s (30 % of its share)")


if __name__ == "__main__":
    main()
