"""When a Deployment counts as rolled out or failed, and how waiting ends (no cluster, no
clock: the reads and the time are scripted)."""

from __future__ import annotations

from typing import Any

import pytest

from blocks.errors import TargetError
from blocks.kubernetes.rollout_status import Progress, rollout_progress, wait_rolled_out

DEADLINE = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
            "message": 'ReplicaSet "shop-v2-abc" has timed out progressing.'}


def deployment(want: int = 3, generation: int = 2, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "shop-v2", "generation": generation},
            "spec": {"replicas": want, "progressDeadlineSeconds": 5},
            "status": status}


@pytest.mark.parametrize(
    ("given", "done", "failed"),
    [
        (deployment(observedGeneration=2, updatedReplicas=3, readyReplicas=3,
                    availableReplicas=3, replicas=3), True, False),
        (deployment(observedGeneration=1, updatedReplicas=3, readyReplicas=3,
                    availableReplicas=3, replicas=3), False, False),  # spec not seen yet
        (deployment(observedGeneration=2, updatedReplicas=3, readyReplicas=2,
                    availableReplicas=2, replicas=3), False, False),
        (deployment(observedGeneration=2, updatedReplicas=3, readyReplicas=3,
                    availableReplicas=3, replicas=4), False, False),  # an old pod remains
        (deployment(observedGeneration=2, updatedReplicas=3, replicas=3,
                    conditions=[DEADLINE]), False, True),
        (deployment(observedGeneration=2, updatedReplicas=3, readyReplicas=3,
                    availableReplicas=3, replicas=3, conditions=[DEADLINE]), True, False),
        (deployment(want=0, observedGeneration=2), True, False),
    ],
)
def test_rollout_progress(given: dict[str, Any], done: bool, failed: bool) -> None:
    progress = rollout_progress(given)
    assert progress.done is done
    assert (progress.failed is not None) is failed


def test_the_detail_counts_what_is_missing() -> None:
    progress = rollout_progress(deployment(observedGeneration=2, updatedReplicas=3,
                                           readyReplicas=1, availableReplicas=1, replicas=4))
    assert progress == Progress(
        False, "3/3 updated, 1/3 ready, 1/3 available, 1 old pods terminating"
    )


class Script:
    """Deployments returned one per read, and a clock that moves one second per sleep."""

    def __init__(self, *reads: dict[str, Any] | None) -> None:
        self.reads = list(reads)
        self.now = 0.0

    def read(self) -> dict[str, Any] | None:
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]

    def sleep(self, seconds: float) -> None:
        self.now += 1


def wait(script: Script, timeout: float = 10) -> None:
    wait_rolled_out(script.read, "shop-v2", timeout=timeout, poll=1, sleep=script.sleep,
                    clock=lambda: script.now, explain=lambda: "pod x: not Ready")


def test_waiting_returns_once_rolled_out() -> None:
    script = Script(deployment(observedGeneration=1),
                    deployment(observedGeneration=2, updatedReplicas=3, readyReplicas=3,
                               availableReplicas=3, replicas=3))
    wait(script)
    assert script.now == 1


def test_the_progress_deadline_ends_the_wait_with_the_reason() -> None:
    script = Script(deployment(observedGeneration=2, updatedReplicas=3, replicas=3,
                               conditions=[DEADLINE]))
    with pytest.raises(TargetError, match=r"no progress within its deadline \(5 s\): 3/3 "
                                          r"updated, 0/3 ready.*pod x: not Ready.*timed out"):
        wait(script)


def test_floodgates_own_limit_ends_a_wait_the_controller_never_decides() -> None:
    with pytest.raises(TargetError, match="not rolled out after 10 s"):
        wait(Script(deployment(observedGeneration=1)))


def test_a_deployment_deleted_while_waiting_is_an_error() -> None:
    with pytest.raises(TargetError, match="disappeared"):
        wait(Script(None))
