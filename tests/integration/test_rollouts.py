"""Issue 2's proof: every strategy promotes a healthy version and rolls back a faulty one.

Real nginx, Prometheus, fraud-api processes and load generator; the `deploy` flow runs in this
process against a real Prefect server, exactly as `floodgate deploy` runs it.
"""

from __future__ import annotations

import pytest

from flows.deploy import deploy
from flows.model import Phase, Verdict
from flows.spec import Strategy
from tests.integration.helpers import (
    assert_consistent,
    fast_spec,
    loadgen_failures,
    record,
)
from tests.support.local_stack import RunningStack

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("strategy", list(Strategy))
def test_a_healthy_version_is_promoted(stack: RunningStack, strategy: Strategy) -> None:
    failed_before = loadgen_failures(stack)
    state = deploy(spec=fast_spec(strategy), target="local", return_state=True)
    rollout = record(stack)
    assert rollout.phase is Phase.SUCCEEDED, rollout.reason
    assert state.is_completed()
    assert rollout.analyses, "every strategy analyses the new version before promoting it"
    # An inconclusive analysis (a slow scrape on a busy machine) is retried, never a failure.
    assert not any(a.verdict is Verdict.FAIL for a in rollout.analyses)
    assert rollout.analyses[-1].verdict is Verdict.PASS
    assert_consistent(stack, "v2")
    assert loadgen_failures(stack) == failed_before, "a promoted rollout dropped requests"


FAULTS = {
    "unhealthy": ({"FAULT_UNHEALTHY": "1"}, "HealthCheckFailed"),
    "errors": ({"FAULT_ERROR_RATE": "0.3"}, "error rate"),
    "latency": ({"FAULT_LATENCY_MS": "800"}, "p95"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("strategy", list(Strategy))
def test_a_faulty_version_is_rolled_back(
    stack: RunningStack, strategy: Strategy, fault: str
) -> None:
    env, reason = FAULTS[fault]
    state = deploy(spec=fast_spec(strategy, **env), target="local", return_state=True)
    rollout = record(stack)
    assert rollout.phase is Phase.ROLLED_BACK, rollout.reason
    assert reason in rollout.reason
    assert state.is_failed(), "a rollback shows as a failed flow run in the Prefect UI"
    assert_consistent(stack, "v1")
    snapshot = stack.target.get_snapshot("fraud-api", rollout.snapshot_id or "")
    assert snapshot.stable_version == "v1"


def test_prometheus_down_never_promotes(stack: RunningStack) -> None:
    """Fail-safe: with no metrics the analysis errors, and after the error limit it rolls back."""
    stack.stack.prometheus.stop(5)
    try:
        state = deploy(spec=fast_spec(Strategy.CANARY), target="local", return_state=True)
    finally:
        stack.stack.prometheus.start()
    rollout = record(stack)
    assert rollout.phase is Phase.ROLLED_BACK, rollout.reason
    assert "consecutive metric query errors" in rollout.reason
    assert all(a.verdict is Verdict.ERROR for a in rollout.analyses)
    assert len(rollout.analyses) == rollout.spec.analysis.consecutive_error_limit + 1
    assert state.is_failed()
    assert_consistent(stack, "v1")
