"""`kill -9` of the flow at each of the six steps, then `floodgate resume`: always consistent.

The deploy runs as the real `floodgate` command in its own process; a failpoint
(`flows/failpoints.py`) SIGKILLs it right after a step's transition is saved (`enter:`) or right
after the step's side effect, before the next transition is saved (`done:`). `floodgate resume`
must end fully promoted: all traffic on v2, only v2's instances alive, no orphan process.
"""

from __future__ import annotations

import signal

import pytest

from flows.model import Phase
from tests.integration.helpers import CLI_FAST, assert_consistent, floodgate, record
from tests.support.local_stack import APP, RunningStack
from tests.support.prefect_server import PrefectServer

pytestmark = pytest.mark.integration

# The six workflow steps: validate, prepare, health-check, compare metrics, shift, complete.
CRASH_POINTS = [
    "enter:Validating",
    "enter:Preparing",
    "done:Preparing",
    "enter:Verifying",
    "enter:Analysing",
    "done:Analysing",
    "enter:Shifting",
    "done:Shifting",
    "enter:Promoting",
    "done:Promoting",
]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_at_a_step_then_resume_ends_consistent(
    stack: RunningStack, prefect_server: PrefectServer, point: str
) -> None:
    deploy = floodgate(
        ["deploy", APP, "v2", "--strategy", "canary", *CLI_FAST],
        stack, prefect_server, FLOODGATE_FAILPOINTS=point,
    )  # fmt: skip
    assert deploy.returncode == -signal.SIGKILL, deploy.stdout + deploy.stderr
    killed = record(stack)
    assert killed.phase.value == point.split(":")[1]
    assert not killed.terminal

    # The lock died with the process: a second, different rollout is refused by the record...
    other = floodgate(["deploy", APP, "v3", "--strategy", "canary"], stack, prefect_server)
    assert other.returncode == 2
    assert "unfinished canary rollout to v2" in other.stderr

    resumed = floodgate(["resume", APP], stack, prefect_server)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    final = record(stack)
    assert final.id == killed.id
    assert final.phase is Phase.SUCCEEDED
    assert len(final.flow_run_ids) == 2, "both flow runs are linked from the record"
    assert_consistent(stack, "v2")
