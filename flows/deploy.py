"""The `deploy` flow: validate → prepare → health-check → compare metrics → shift → finish.

One flow for all three strategies; the strategy is a parameter of the `RolloutSpec`, which
Prefect renders as the run form in the UI. The flow holds the app's lock for as long as it drives
the rollout, so a second rollout of the same app is refused, and a killed flow releases it with
its process. Running `deploy` again with the same spec — or `floodgate resume` — continues an
interrupted rollout from the record the target keeps.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from flows.gate import prefect_gate
from flows.model import Phase, Rollout
from flows.reconcile import Deps, replicas_of
from flows.reporting import PrefectReporter
from flows.runner import drive, record_flow_run, start_or_resume
from flows.spec import RolloutSpec
from flows.targets import resolve
from flows.tasks import prefect_steps


def holder_name() -> str:
    run_id = flow_run.get_id() or "no-flow-run"
    return f"flow run {run_id} (pid {os.getpid()} on {socket.gethostname()})"


def summary(rollout: Rollout) -> dict[str, Any]:
    """The flow's return value: enough to act on without reading the record."""
    return {
        "app": rollout.app,
        "version": rollout.version,
        "rollout_id": rollout.id,
        "phase": rollout.phase.value,
        "reason": rollout.reason,
        "weights": rollout.weights,
    }


def final_state(rollout: Rollout) -> State[Any]:
    """Succeeded is Completed; a rollback or refusal is Failed, so the UI shows it in red."""
    data = summary(rollout)
    if rollout.phase is Phase.SUCCEEDED:
        return Completed(message=rollout.reason, data=data)
    if rollout.terminal:
        return Failed(message=f"{rollout.phase}: {rollout.reason}", data=data)
    return Completed(message=f"waiting in {rollout.phase}: {rollout.reason}", data=data)


def drive_rollout(spec: RolloutSpec, target_name: str, follow: bool) -> Rollout:
    """Start or resume the rollout of `spec` and drive it while holding the app's lock."""
    logger = get_run_logger()
    resolved = resolve(target_name)
    target = resolved.target
    with target.lock(spec.app, holder_name()):
        rollout = start_or_resume(spec, target)
        deps = Deps(target=target, metrics=resolved.metrics, steps=prefect_steps(rollout.spec))
        rollout = record_flow_run(rollout, deps, str(flow_run.get_id() or ""))
        reporter = PrefectReporter(rollout, replicas_of(rollout, target))

        def on_change(new: Rollout) -> None:
            logger.info("%s [%s] %s", new.phase, new.step, new.reason)
            reporter.update(new)

        gate = prefect_gate(target) if follow else None
        final = drive(rollout, deps, follow=follow, on_change=on_change, gate=gate)
        reporter.finish(final)
    return final


@flow(
    name="deploy",
    flow_run_name="{spec.app} → {spec.version}",
    description="Roll an app out to a new version: blue-green, canary or rolling.",
    log_prints=True,
)
def deploy(spec: RolloutSpec, target: str = "local", follow: bool = True) -> State[Any]:
    """Roll `spec.app` out to `spec.version` on `target`.

    With `follow=False` the flow returns once the rollout only waits for its next canary step;
    the scheduled `progress` deployment advances it from there.
    """
    return final_state(drive_rollout(spec, target, follow))
