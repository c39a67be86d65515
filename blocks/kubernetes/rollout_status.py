"""Is a Deployment rolled out? The same test `kubectl rollout status` makes, as a pure function.

A Deployment is done when the controller has observed the latest spec (observedGeneration ≥
generation) and every wanted replica is updated, ready and available with no old pod left. It
has failed when the controller reports `Progressing=False` with `ProgressDeadlineExceeded`:
no progress for `progressDeadlineSeconds` (pods that never turn Ready, an image that never
pulls, a quota). Waiting stops at the first of done, failed, or Floodgate's own time limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blocks.errors import TargetError

JSON = dict[str, Any]


@dataclass(frozen=True)
class Progress:
    """Where a Deployment's rollout stands; `failed` is the controller's reason, if any."""

    done: bool
    detail: str
    failed: str | None = None


def rollout_progress(deployment: JSON) -> Progress:
    meta = deployment.get("metadata", {})
    spec = deployment.get("spec", {})
    status = deployment.get("status") or {}
    want = int(spec.get("replicas", 1))
    generation = int(meta.get("generation", 0))
    observed = int(status.get("observedGeneration", 0))
    if observed < generation:
        return Progress(False, f"waiting for the controller to observe generation {generation}")
    updated = int(status.get("updatedReplicas", 0))
    ready = int(status.get("readyReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    total = int(status.get("replicas", 0))
    detail = f"{updated}/{want} updated, {ready}/{want} ready, {available}/{want} available"
    if total > want:
        detail += f", {total - want} old pods terminating"
    if updated == want and ready == want and available == want and total == want:
        return Progress(True, detail)
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "Progressing"
            and condition.get("status") == "False"
            and condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            return Progress(False, detail, failed=str(condition.get("message", "")))
    return Progress(False, detail)


def wait_rolled_out(
    read: Callable[[], JSON | None],
    name: str,
    *,
    timeout: float,
    poll: float,
    explain: Callable[[], str] = lambda: "",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Block until the Deployment `read` returns is rolled out; TargetError when it cannot be."""
    deadline = clock() + timeout
    while True:
        deployment = read()
        if deployment is None:
            raise TargetError(f"Deployment {name} disappeared while waiting for its rollout")
        progress = rollout_progress(deployment)
        if progress.done:
            return
        if progress.failed is not None:
            seconds = deployment.get("spec", {}).get("progressDeadlineSeconds", "?")
            why = explain()
            raise TargetError(
                f"Deployment {name} made no progress within its deadline ({seconds} s): "
                f"{progress.detail}" + (f"; {why}" if why else "") + f" ({progress.failed})"
            )
        if clock() > deadline:
            why = explain()
            raise TargetError(
                f"Deployment {name} not rolled out after {timeout:.0f} s: {progress.detail}"
                + (f"; {why}" if why else "")
            )
        sleep(poll)
