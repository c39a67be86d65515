"""The API's read-only view of the rollout record, held equal to the flows' model and the CLI."""

from __future__ import annotations

import pytest

from app.control.errors import ControlError
from app.control.records import (
    PROMOTABLE_PHASES,
    ROLLING_BACK,
    TERMINAL_PHASES,
    command_refusal,
    read_record,
)
from flows.model import TERMINAL, Phase, Rollout
from flows.spec import RolloutSpec, Strategy


def rollout(phase: Phase, **changes) -> Rollout:
    base = Rollout(spec=RolloutSpec(app="fraud", version="v2", strategy=Strategy.BLUE_GREEN),
                   from_version="v1", flow_run_ids=["a", "b"])
    return base.model_copy(update={"phase": phase, **changes})


def test_phase_names_match_the_flows_model():
    assert {p.value for p in TERMINAL} == TERMINAL_PHASES
    assert Phase.ROLLING_BACK.value == ROLLING_BACK
    assert {Phase.ANALYSING.value, Phase.PAUSED.value} == PROMOTABLE_PHASES


def test_reads_a_real_record():
    record = rollout(Phase.PENDING).transition(Phase.VALIDATING, "checks started")
    view = read_record("fraud", record.model_dump(mode="json"))
    assert view is not None
    assert (view.id, view.version, view.spec.strategy, view.phase) == (
        record.id, "v2", "blue-green", "Validating")
    assert view.last_flow_run_id == "b"
    assert view.detail()["transitions"][0]["reason"] == "checks started"
    assert not view.terminal


def test_no_record_is_none_and_a_broken_one_a_named_server_fault():
    assert read_record("fraud", None) is None
    with pytest.raises(ControlError) as caught:
        read_record("fraud", {"id": "x", "phase": "Analysing"})
    assert caught.value.status == 500
    assert "record of fraud is unreadable" in str(caught.value)


# The CLI's rules (flows/cli/rollouts.py): promote in {Analysing, Paused}; abort in every phase
# that is neither terminal nor RollingBack.
CLI_ABORTABLE = {p for p in Phase if not p.terminal and p is not Phase.ROLLING_BACK}


@pytest.mark.parametrize("phase", list(Phase))
def test_command_rules_are_the_clis(phase):
    view = read_record("fraud", rollout(phase).model_dump(mode="json"))
    assert (command_refusal("abort", view, "fraud") is None) == (phase in CLI_ABORTABLE)
    promotable = phase in {Phase.ANALYSING, Phase.PAUSED}
    assert (command_refusal("promote", view, "fraud") is None) == promotable
    assert (command_refusal("promote-full", view, "fraud") is None) == promotable


def test_refusal_says_why():
    assert command_refusal("abort", None, "fraud") == "cannot abort fraud: it has no rollout"
    view = read_record("fraud", rollout(Phase.SUCCEEDED).model_dump(mode="json"))
    reason = command_refusal("promote", view, "fraud")
    assert reason is not None
    assert "phase Succeeded" in reason
