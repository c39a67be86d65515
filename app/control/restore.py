"""Roll an app back through the `rollback/restore` deployment.

The flow aborts the rollout in flight (back to the snapshot it took), or restores the newest
snapshot, or the one named. Checked here first, so a request that cannot work changes nothing
and says why: the snapshot must exist and be restorable (422, field `to`); a rollout in flight
can only go back to its own snapshot (409: abort it first); with nothing in flight there must be
a snapshot (409). A rollback of the app already scheduled or running answers for the same request
(200) and refuses another snapshot (409).
"""

from __future__ import annotations

from app.config import Settings
from app.control.errors import ControlError, field_error
from app.control.launch import Launch, find_replay
from app.control.prefect_api import FlowRunRef, PrefectDeployments
from app.control.target_calls import current, describe, in_thread
from blocks.errors import InvalidSnapshot
from blocks.target import Target


async def start_restore(
    app: str,
    snapshot_id: str | None,
    *,
    target: Target,
    deployments: PrefectDeployments,
    settings: Settings,
    idempotency_key: str | None = None,
) -> Launch:
    name = settings.control_rollback_deployment
    if idempotency_key is not None:
        asked = {"app": app, "snapshot": snapshot_id}
        replay = await find_replay(deployments, name, idempotency_key, asked)
        if replay is not None:
            return replay
    await describe(target, app)
    if snapshot_id is not None:
        try:
            await in_thread(target.get_snapshot, app, snapshot_id)
        except InvalidSnapshot as error:
            raise ControlError(
                422, [field_error(("query", "to"), str(error), "invalid_snapshot")]
            ) from error
    rollout = await current(target, app)
    in_flight = rollout is not None and not rollout.terminal
    if rollout is not None and in_flight and snapshot_id not in (None, rollout.snapshot_id):
        raise ControlError(
            409, f"{app} has a rollout in flight ({rollout.id}, phase {rollout.phase}); abort "
            f"it first (POST /rollouts/{app}/abort), then roll back to {snapshot_id}",
            rollout_id=rollout.id, phase=rollout.phase,
        )  # fmt: skip
    if not in_flight and snapshot_id is None and not await in_thread(target.snapshots, app):
        raise ControlError(409, f"{app} has no snapshot to roll back to")
    waiting = await _unfinished_restore(deployments, name, app, snapshot_id, settings)
    if waiting is not None:
        return Launch("in_progress", waiting, f"flow run {waiting.name} ({waiting.state_name}) "
                      f"already rolls {app} back")  # fmt: skip
    run, created = await deployments.create_run(
        name,
        {"app": app, "target": settings.control_target, "snapshot": snapshot_id},
        idempotency_key,
        loc_prefix=("query",),
    )
    if not created:
        return Launch("replayed", run, f"idempotency key {idempotency_key!r} seen before")
    what = f"aborts rollout {rollout.id}" if in_flight and rollout else (
        f"restores snapshot {snapshot_id}" if snapshot_id else "restores the newest snapshot"
    )
    return Launch("started", run, f"rollback scheduled: {what}", rollout.id if rollout else None)


async def _unfinished_restore(
    deployments: PrefectDeployments,
    name: str,
    app: str,
    snapshot_id: str | None,
    settings: Settings,
) -> FlowRunRef | None:
    """An active rollback run of `app` on this target: the same request → that run; a rollback
    to another snapshot → 409 (two restores of one app would undo each other)."""
    for run in await deployments.active_runs(name):
        params = run.parameters
        if params.get("app") != app:
            continue
        if params.get("target", settings.control_target) != settings.control_target:
            continue
        if params.get("snapshot") == snapshot_id:
            return run
        raise ControlError(
            409, f"flow run {run.name} ({run.state_name}) already rolls {app} back to "
            f"{params.get('snapshot') or 'its newest snapshot'}; wait for it to finish",
            flow_run_id=run.id,
        )  # fmt: skip
    return None
