"""The manual gate of a paused rollout, as a Prefect pause with a form in the UI.

A rollout with `pause_before_promote` stops in `Paused` before its last step. Inside a Prefect
flow run the flow then pauses itself with `pause_flow_run(wait_for_input=GateDecision)`: the UI
shows a *Resume* button with a form (promote, promote-full, abort). `floodgate promote/abort`
resume the same run with the same input, so people can use either. No decision within
`spec.pause_timeout_seconds` aborts the rollout — split traffic is never left waiting forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal
from uuid import UUID

from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from pydantic import BaseModel, Field

from blocks.target import Target
from flows.model import Rollout

log = logging.getLogger("floodgate.gate")


class GateDecision(BaseModel):
    """What a person decides at the gate (the Prefect UI renders this as the resume form)."""

    decision: Literal["promote", "promote-full", "abort"] = Field(
        "promote", description="promote: go on to the last step; abort: roll back."
    )
    note: str = Field("", max_length=500, description="Why, for the audit trail.")


def prefect_gate(target: Target) -> Callable[[Rollout], None]:
    """A `gate` for `flows.runner.drive` that waits for a decision through Prefect."""

    def gate(rollout: Rollout) -> None:
        timeout = int(rollout.spec.pause_timeout_seconds)
        try:
            decision = pause_flow_run(
                wait_for_input=GateDecision, timeout=timeout, poll_interval=2,
                key=f"gate-{rollout.id}-{rollout.step}",
            )  # fmt: skip
        except FlowPauseTimeout:
            log.warning("no decision for %s within %ss: aborting", rollout.app, timeout)
            target.post_command(rollout.app, "abort")
            return
        if decision is not None:
            log.info("gate decision for %s: %s %s", rollout.app, decision.decision, decision.note)
            target.post_command(rollout.app, decision.decision)

    return gate


def resume_paused_run(flow_run_id: str, decision: str) -> bool:
    """Resume a flow run paused at the gate with `decision`; False if it is not paused."""
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(flow_run_id))
    if run.state is None or not run.state.is_paused():
        return False
    resume_flow_run(UUID(flow_run_id), run_input={"decision": decision})
    return True
