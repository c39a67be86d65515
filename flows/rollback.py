"""The `rollback` and `progress` flows.

`rollback` restores a snapshot: the rollout in flight is aborted (rolled back to the snapshot it
took), otherwise the latest snapshot of the app — or the one named — is validated and restored.
`progress` is the scheduled tick: it advances every rollout nobody is driving (a canary whose
flow returned with `follow=False`, or one whose flow run died), so rollouts finish on schedule and
recover by themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run

from blocks.errors import AppLocked
from blocks.target import Target
from flows.deploy import final_state, holder_name
from flows.errors import BadInput
from flows.model import Phase, Rollout
from flows.reconcile import Deps, save
from flows.runner import current, drive, record_flow_run
from flows.spec import RolloutSpec, Strategy
from flows.targets import resolve
from flows.tasks import prefect_steps

log = logging.getLogger("floodgate.rollback")


def restore_request(target: Target, app: str, snapshot_id: str | None) -> Rollout:
    """A rollback record for restoring `snapshot_id` (or the newest snapshot)."""
    info = target.describe(app)
    if snapshot_id is None:
        snapshots = target.snapshots(app)
        if not snapshots:
            raise BadInput(f"{app} has no snapshot to roll back to")
        snapshot = snapshots[0]
    else:
        snapshot = target.get_snapshot(app, snapshot_id)  # raises InvalidSnapshot
    if snapshot.stable_version is None:
        raise BadInput(f"snapshot {snapshot.id} of {app} has no stable version to restore")
    spec = RolloutSpec(app=app, version=snapshot.stable_version, strategy=Strategy.BLUE_GREEN)
    rollout = Rollout(
        spec=spec,
        from_version=info.stable_version,
        snapshot_id=snapshot.id,
        kind="restore",
        reason="restore requested",
    )
    return rollout.transition(
        Phase.ROLLING_BACK,
        f"restoring snapshot {snapshot.id} ({snapshot.taken_at:%Y-%m-%d %H:%M} UTC)",
    )


def roll_back_app(target_name: str, app: str, snapshot_id: str | None) -> Rollout:
    resolved = resolve(target_name)
    target = resolved.target
    existing = current(target, app)
    in_flight = existing is not None and not existing.terminal
    if existing is not None and in_flight and snapshot_id not in (None, existing.snapshot_id):
        raise BadInput(
            f"{app} has a rollout in flight; abort it first, then roll back to {snapshot_id}"
        )
    try:
        with target.lock(app, holder_name()):
            if in_flight:
                assert existing is not None
                target.post_command(app, "abort")
                rollout = existing
            else:
                rollout = restore_request(target, app, snapshot_id)
            deps = Deps(target=target, metrics=resolved.metrics, steps=prefect_steps(rollout.spec))
            if not in_flight:
                rollout = save(rollout, deps)
            return drive(rollout, deps)
    except AppLocked:
        if not in_flight:
            raise
        # Another process drives the rollout: it picks the abort up within a second.
        target.post_command(app, "abort")
        assert existing is not None
        return existing


@flow(name="rollback", flow_run_name="rollback {app}", log_prints=True)
def rollback(app: str, target: str = "local", snapshot: str | None = None) -> State[Any]:
    """Roll `app` back: abort its rollout in flight, or restore a snapshot (default: newest)."""
    return final_state(roll_back_app(target, app, snapshot))


@flow(name="progress", log_prints=True)
def progress(target: str = "local") -> list[dict[str, Any]]:
    """Advance every rollout in flight that no process is driving (run on a schedule)."""
    logger = get_run_logger()
    resolved = resolve(target)
    advanced: list[dict[str, Any]] = []
    for app in resolved.target.apps():
        rollout = current(resolved.target, app)
        if rollout is None or rollout.terminal:
            continue
        try:
            with resolved.target.lock(app, holder_name()):
                deps = Deps(resolved.target, resolved.metrics, prefect_steps(rollout.spec))
                rollout = record_flow_run(rollout, deps, str(flow_run.get_id() or ""))
                rollout = drive(rollout, deps, follow=False)
        except AppLocked:
            logger.info("%s is being driven by another process; skipped", app)
            continue
        logger.info("%s: %s (%s)", app, rollout.phase, rollout.reason)
        advanced.append({"app": app, "phase": rollout.phase.value, "reason": rollout.reason})
    return advanced
