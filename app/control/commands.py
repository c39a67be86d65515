"""Promote and abort: leave the command on the target for whoever drives the rollout.

The command is stored by the target (a file, a ConfigMap), the same place the CLI and the flows
use, so it needs only the target: an abort works while Prefect is down (fail-open on Prefect, on
purpose — stopping a bad rollout must not depend on the orchestrator's API). The process driving
the rollout picks it up within a second.

If no flow run drives it (a detached canary between `progress` ticks, a flow run that died), the
API also starts a run of the `progress` deployment so the command is acted on now rather than at
the next scheduled tick. When Prefect cannot be asked, the answer says so: the command stays
recorded and the next tick (or `floodgate resume`) acts on it.
"""

from __future__ import annotations

from typing import Any, Literal

from app.config import Settings
from app.control.errors import ControlError
from app.control.prefect_api import PrefectDeployments, ui_run_url
from app.control.records import RolloutView, command_refusal
from app.control.target_calls import current, describe, in_thread
from blocks.target import Target

Command = Literal["abort", "promote", "promote-full"]


async def send_command(
    app: str,
    command: Command,
    *,
    target: Target,
    deployments: PrefectDeployments | None,
    settings: Settings,
) -> dict[str, Any]:
    """Post `command` for `app`'s rollout (409 if its phase does not allow it)."""
    await describe(target, app)
    rollout = await current(target, app)
    refusal = command_refusal(command, rollout, app)
    if refusal is not None:
        phase = rollout.phase if rollout is not None else None
        raise ControlError(409, refusal, phase=phase)
    assert rollout is not None
    if await _resume_gate(rollout, command, deployments):
        driver: dict[str, Any] = {
            "kind": "gate", "flow_run_id": rollout.last_flow_run_id,
            "detail": "the flow run paused at the manual gate was resumed with it",
        }  # fmt: skip
    else:
        await in_thread(target.post_command, app, command)
        driver = await _ensure_driver(rollout, deployments, settings)
    return {
        "status": "accepted",
        "app": app,
        "command": command,
        "rollout_id": rollout.id,
        "phase": rollout.phase,
        "driver": driver,
        "status_url": f"/rollouts/{app}",
    }


async def _resume_gate(
    rollout: RolloutView, command: Command, deployments: PrefectDeployments | None
) -> bool:
    """A rollout paused at the manual gate waits inside a paused Prefect flow run: resuming that
    run with the decision is how the command reaches it (posting it as well would act twice)."""
    if rollout.phase != "Paused" or deployments is None or not rollout.last_flow_run_id:
        return False
    try:
        return await deployments.resume_paused(
            rollout.last_flow_run_id, {"decision": command, "note": "via the control API"}
        )
    except ControlError:
        return False  # Prefect unreachable: post the command; it is acted on once resumed


async def _ensure_driver(
    rollout: RolloutView, deployments: PrefectDeployments | None, settings: Settings
) -> dict[str, Any]:
    """Who will act on the command: the running flow run, or a progress run started now."""
    if deployments is None:
        return {"kind": "unknown", "detail": "no Prefect API configured; the process driving "
                "the rollout, if any, acts on the command"}  # fmt: skip
    try:
        last = (
            await deployments.read_run(rollout.last_flow_run_id)
            if rollout.last_flow_run_id
            else None
        )
        if last is not None and last.state_type == "RUNNING":
            return {"kind": "flow_run", "flow_run_id": last.id,
                    "detail": f"flow run {last.name} drives the rollout and acts within a second"}
        run, _ = await deployments.create_run(
            settings.control_progress_deployment, {"target": settings.control_target}
        )
    except ControlError as error:  # Prefect down, or the progress deployment is missing
        return {"kind": "unknown", "detail": f"the command is recorded on the target, but "
                f"{error}; it is acted on by the process driving the rollout, if any, or the "
                "next progress tick"}  # fmt: skip
    return {
        "kind": "progress_run",
        "flow_run_id": run.id,
        "detail": f"no flow run drives the rollout; started {run.name} to act on the command",
        "watch_url": ui_run_url(settings.prefect_ui_url, deployments.api_url, run.id),
    }
