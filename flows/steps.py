"""The six workflow steps as plain functions; `flows.tasks` wraps each one as a Prefect task.

validate → prepare → health-check → compare metrics → shift traffic → complete or roll back.
Every function is safe to run twice: the reconcile tick re-runs the step of the phase it finds
saved, so a flow killed in the middle of a step simply does that step again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from blocks.errors import InvalidSnapshot
from blocks.metrics import MetricsSource
from blocks.target import Target
from flows.analysis import Outcome, decide
from flows.errors import HealthCheckFailed
from flows.model import AnalysisRecord, Rollout, Verdict, utcnow
from flows.plans import check_min_healthy
from flows.spec import Strategy
from flows.validation import check_config, check_dependencies, check_migrations


def candidate_env(rollout: Rollout, target: Target) -> dict[str, str]:
    """The new version's configuration: the app's current config overlaid with `--env`."""
    info = target.describe(rollout.app)
    return {**info.env, **rollout.spec.env}


def validate(rollout: Rollout, target: Target) -> list[str]:
    """Step 1: every reason to refuse the rollout, before anything changes."""
    info = target.describe(rollout.app)
    env = candidate_env(rollout, target)
    checks = rollout.spec.validation
    command = checks.migration_check or (
        list(info.migration_check) if info.migration_check else None
    )
    required = sorted({*info.required_config, *checks.required_config})
    running = {app: v for app, v in target.inventory().items() if app != rollout.app}
    return [
        *check_plan(rollout, info.replicas),
        *check_migrations(command, checks.migration_timeout_seconds, env),
        *check_dependencies(checks.requires, running),
        *check_config(required, env),
    ]


def check_plan(rollout: Rollout, app_replicas: int) -> list[str]:
    """Rolling plans must keep `min_healthy` instances serving."""
    spec = rollout.spec
    if spec.strategy is not Strategy.ROLLING:
        return []
    replicas = spec.replicas or app_replicas
    min_healthy = replicas if spec.min_healthy is None else spec.min_healthy
    try:
        check_min_healthy(replicas, spec.batch_size, min_healthy)
    except ValueError as exc:
        return [f"rolling plan: {exc}"]
    return []


def take_snapshot(rollout: Rollout, target: Target) -> str:
    """Record how the app looks before the first change; prune snapshots past retention."""
    snapshot = target.snapshot(rollout.app)
    target.prune_snapshots(rollout.app, target.snapshot_retention)
    return snapshot.id


def prepare(rollout: Rollout, target: Target, count: int) -> list[str]:
    """Step 2: exactly `count` instances of the new version run (green / canary / batch)."""
    instances = target.ensure_instances(
        rollout.app, rollout.version, count, candidate_env(rollout, target)
    )
    return [instance.name for instance in instances]


def open_preview(rollout: Rollout, target: Target) -> None:
    """Blue-green: the preview entry reaches green once green is healthy (never before, so
    testers and the preview load never see an instance that is still starting)."""
    target.set_preview(rollout.app, rollout.version)


def health_check(rollout: Rollout, target: Target) -> str:
    """Step 3: every new instance answers its health endpoint; raise to be retried."""
    health = rollout.spec.health
    instances = target.instances(rollout.app, rollout.version)
    if not instances:
        raise HealthCheckFailed(f"no instance of {rollout.version} is running")
    results = [target.probe(i, health.path, health.timeout_seconds) for i in instances]
    failed = [r for r in results if not r.ok]
    if failed:
        detail = ", ".join(f"{r.instance}: {r.detail}" for r in failed)
        raise HealthCheckFailed(f"{len(failed)}/{len(results)} instances unhealthy: {detail}")
    return f"{len(results)} instances healthy"


def health_check_with_retries(
    rollout: Rollout, target: Target, sleep: Callable[[float], None] = time.sleep
) -> str:
    """Step 3 with the spec's retry policy, for running without Prefect (which retries the
    single-attempt `health_check` task itself and shows each retry in the UI)."""
    health = rollout.spec.health
    for attempt in range(health.retries + 1):
        try:
            return health_check(rollout, target)
        except HealthCheckFailed:
            if attempt == health.retries:
                raise
            sleep(health.retry_delay_seconds)
    raise AssertionError("unreachable")


def compare_metrics(
    rollout: Rollout, metrics: MetricsSource, weight: int
) -> tuple[Outcome, AnalysisRecord]:
    """Step 4: measure candidate and baseline over the window and decide."""
    policy = rollout.spec.analysis
    candidate = metrics.measure(rollout.app, rollout.version, policy.window_seconds)
    baseline = (
        metrics.measure(rollout.app, rollout.from_version, policy.window_seconds)
        if rollout.from_version and rollout.from_version != rollout.version
        else candidate.__class__()
    )
    outcome = decide(candidate, baseline, policy, rollout.counters)
    record = AnalysisRecord(
        at=utcnow(),
        step=rollout.step,
        weight=weight,
        verdict=outcome.verdict or Verdict.ERROR,
        reason=outcome.reason,
        candidate=candidate.as_dict(),
        baseline=baseline.as_dict(),
    )
    return outcome, record


def shift_traffic(rollout: Rollout, target: Target, weights: Mapping[str, int]) -> dict[str, int]:
    """Step 5: route traffic as planned and return what the target reports it serves."""
    target.set_weights(rollout.app, dict(weights))
    return target.get_weights(rollout.app)


def scale_previous(rollout: Rollout, target: Target, count: int) -> None:
    """Rolling: shrink the old version to `count` instances once a new batch serves."""
    if rollout.from_version and rollout.from_version != rollout.version:
        info = target.describe(rollout.app)
        target.ensure_instances(rollout.app, rollout.from_version, count, dict(info.env))


def complete(rollout: Rollout, target: Target) -> None:
    """Step 6a: all traffic on the new version, which becomes stable; the rest is retired."""
    app = rollout.app
    target.set_weights(app, {rollout.version: 100})
    target.mark_stable(app, rollout.version)
    target.set_preview(app, None)
    for instance_version in {i.version for i in target.instances(app)}:
        if instance_version != rollout.version:
            target.retire(app, instance_version)


def roll_back(rollout: Rollout, target: Target) -> str:
    """Step 6b: restore the snapshot taken before the first change.

    If the snapshot cannot be used (deleted, damaged) the stable version still gets all traffic
    and the candidate is retired, so the app is never left split; the reason says so.
    """
    app = rollout.app
    if rollout.kind == "restore":
        assert rollout.snapshot_id is not None
        snapshot = target.get_snapshot(app, rollout.snapshot_id)
        target.restore(snapshot)
        return f"restored snapshot {snapshot.id}"
    if rollout.snapshot_id is not None:
        try:
            snapshot = target.get_snapshot(app, rollout.snapshot_id)
            target.restore(snapshot)
            return f"restored snapshot {snapshot.id}"
        except InvalidSnapshot as exc:
            fallback = f"snapshot {rollout.snapshot_id} unusable ({exc}); "
    else:
        fallback = "no snapshot was taken; "
    stable = rollout.from_version
    if stable and stable != rollout.version and target.instances(app, stable):
        target.set_weights(app, {stable: 100})
    target.set_preview(app, None)
    if stable != rollout.version:
        target.retire(app, rollout.version)
    return fallback + f"sent all traffic to {stable} and retired {rollout.version}"
