"""The six steps as Prefect tasks, so every step of every rollout shows in the Prefect UI.

Caching is off for all of them: each call must really act on the platform (a cached "healthy"
would be a lie). The health check's retries come from the rollout spec — 5 retries, 10 s apart
by default — so tests shrink the delay through the spec, not by patching Prefect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from flows import steps
from flows.reconcile import Steps
from flows.spec import RolloutSpec

P = ParamSpec("P")
R = TypeVar("R")


def _task(name: str, fn: Callable[P, R]) -> Task[P, R]:
    return task(name=name, cache_policy=NO_CACHE)(fn)


validate_task = _task("validate", steps.validate)
snapshot_task = _task("snapshot", steps.take_snapshot)
prepare_task = _task("prepare", steps.prepare)
open_preview_task = _task("open-preview", steps.open_preview)
health_check_task = _task("health-check", steps.health_check)
compare_metrics_task = _task("compare-metrics", steps.compare_metrics)
shift_traffic_task = _task("shift-traffic", steps.shift_traffic)
scale_previous_task = _task("scale-previous", steps.scale_previous)
complete_task = _task("complete", steps.complete)
roll_back_task = _task("roll-back", steps.roll_back)


def prefect_steps(spec: RolloutSpec) -> Steps:
    """Steps bound to Prefect tasks, with the health check's retry policy from the spec."""
    return Steps(
        validate=validate_task,
        take_snapshot=snapshot_task,
        prepare=prepare_task,
        open_preview=open_preview_task,
        health_check=health_check_task.with_options(
            retries=spec.health.retries,
            retry_delay_seconds=spec.health.retry_delay_seconds,
        ),
        compare_metrics=compare_metrics_task,
        shift_traffic=shift_traffic_task,
        scale_previous=scale_previous_task,
        complete=complete_task,
        roll_back=roll_back_task,
    )
