"""Start a rollout: check what the target and Prefect already have, then create the flow run.

Shared by `POST /rollouts` and `POST /webhooks/ci`. In order:

1. an idempotency key that already names a flow run → that run (a replayed webhook, a retried
   request), nothing new;
2. the app must exist on the target (404 listing the known apps);
3. the target's record: an unfinished rollout of another version or strategy → 409 (abort it or
   let it finish); of the same version and strategy → the run driving it if one is active, else
   a new run, which resumes it from the record; the version already stable → 409;
4. Prefect's unfinished runs of the deploy deployment for this app and target (scheduled but not
   started yet, so no record exists): another version → 409, the same → that run;
5. create the run (Prefect validates the parameters server-side → 422 naming the field).

Steps 3–5 hold a per-app lock in this process, so two requests for one app cannot both pass the
checks. Across several API replicas the deploy flow's own per-app lock and preflight are the last
guard: the second run fails with the same reason, nothing changes twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from app.config import Settings
from app.control.errors import ControlError
from app.control.models import RolloutRequest
from app.control.prefect_api import FlowRunRef, PrefectDeployments
from app.control.target_calls import current, describe
from blocks.target import Target

LaunchStatus = Literal["started", "replayed", "in_progress"]


@dataclass(frozen=True)
class Launch:
    """The answer to a start request: which flow run carries the rollout, and why that one."""

    status: LaunchStatus
    run: FlowRunRef | None
    reason: str
    rollout_id: str | None = None


class AppLocks:
    """One asyncio lock per app name (only names the target knows get one)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, app: str) -> asyncio.Lock:
        return self._locks.setdefault(app, asyncio.Lock())


async def find_replay(
    deployments: PrefectDeployments,
    name: str,
    key: str,
    asked: dict[str, Any],
    *,
    within: str | None = None,
) -> Launch | None:
    """The run `key` already created, if any; 409 if that run was asked for something else
    (a key reused by mistake must not silently answer with another app's rollout)."""
    earlier = await deployments.find_by_idempotency_key(name, key)
    if earlier is None:
        return None
    given = earlier.parameters.get(within) if within else earlier.parameters
    if not isinstance(given, dict) or any(given.get(k, v) != v for k, v in asked.items()):
        raise ControlError(
            409, f"idempotency key {key!r} was already used for another request (flow run "
            f"{earlier.name}); send a new key", flow_run_id=earlier.id,
        )  # fmt: skip
    return Launch("replayed", earlier, f"idempotency key {key!r} seen before")


def _same_rollout(spec: object, request: RolloutRequest) -> bool:
    return (
        isinstance(spec, dict)
        and spec.get("version") == request.version
        and spec.get("strategy", "canary") == request.strategy.value
    )


async def start_rollout(
    request: RolloutRequest,
    *,
    target: Target,
    deployments: PrefectDeployments,
    settings: Settings,
    locks: AppLocks,
    idempotency_key: str | None = None,
    loc_prefix: tuple[str, ...] = ("body",),
) -> Launch:
    """Create (or find) the flow run that rolls `request.app` out to `request.version`."""
    name = settings.control_deploy_deployment
    if idempotency_key is not None:
        asked = {"app": request.app, "version": request.version,
                 "strategy": request.strategy.value}  # fmt: skip
        replay = await find_replay(deployments, name, idempotency_key, asked, within="spec")
        if replay is not None:
            return replay
    info = await describe(target, request.app)
    app = request.app
    async with locks(app):
        resumes: str | None = None
        existing = await current(target, app)
        if existing is not None and not existing.terminal:
            if not _same_rollout(existing.spec.model_dump(), request):
                raise ControlError(
                    409,
                    f"{app} has an unfinished {existing.spec.strategy} rollout to "
                    f"{existing.version} (phase {existing.phase}, id {existing.id}); abort it "
                    f"(POST /rollouts/{app}/abort) or wait for it to finish",
                    rollout_id=existing.id, phase=existing.phase,
                )  # fmt: skip
            driver = (
                await deployments.read_run(existing.last_flow_run_id)
                if existing.last_flow_run_id
                else None
            )
            if driver is not None and driver.active:
                return Launch("in_progress", driver, f"rollout {existing.id} is already "
                              f"{existing.phase} in this flow run", existing.id)  # fmt: skip
            resumes = existing.id
        elif info.stable_version == request.version:
            raise ControlError(409, f"{app} already runs {request.version}; nothing to roll out")
        waiting = await _unfinished_run(deployments, name, request, settings.control_target)
        if waiting is not None:
            return Launch("in_progress", waiting, f"flow run {waiting.name} ({waiting.state_name}) "
                          f"already rolls {app} out to {request.version}")  # fmt: skip
        run, created = await deployments.create_run(
            name,
            {"spec": request.spec(), "target": settings.control_target},
            idempotency_key,
            loc_prefix=loc_prefix,
        )
    if not created:
        return Launch("replayed", run, f"idempotency key {idempotency_key!r} seen before")
    reason = f"resumes unfinished rollout {resumes}" if resumes else "rollout scheduled"
    return Launch("started", run, reason, resumes)


async def _unfinished_run(
    deployments: PrefectDeployments, name: str, request: RolloutRequest, target_name: str
) -> FlowRunRef | None:
    """An active run for this app and target that will roll out the same version; 409 if it
    rolls out another one."""
    for run in await deployments.active_runs(name):
        spec = run.parameters.get("spec")
        if not isinstance(spec, dict) or spec.get("app") != request.app:
            continue
        if run.parameters.get("target", target_name) != target_name:
            continue
        if _same_rollout(spec, request):
            return run
        raise ControlError(
            409,
            f"flow run {run.name} ({run.id}, {run.state_name}) is about to roll {request.app} "
            f"out to {spec.get('version')}; cancel it in the Prefect UI or wait for it to finish",
            flow_run_id=run.id,
        )
    return None
