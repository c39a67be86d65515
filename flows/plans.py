"""Traffic plans as pure functions: canary weights, blue-green switches, rolling batches.

Nothing here touches a platform; the reconcile tick asks these functions what the target should
look like at a given step and then makes it so. That keeps every step safe to repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def canary_weights(
    steps: Sequence[int], stable: str | None, candidate: str
) -> list[dict[str, int]]:
    """Weights per canary step, as version → percent.

    >>> canary_weights([5, 10, 50, 100], "v1", "v2")
    [{'v1': 95, 'v2': 5}, {'v1': 90, 'v2': 10}, {'v1': 50, 'v2': 50}, {'v2': 100}]

    A first rollout (no stable version yet) sends everything to the candidate at every step.
    """
    plan: list[dict[str, int]] = []
    for step in steps:
        if not 0 < step <= 100:
            raise ValueError(f"canary step {step} is outside 1..100")
        if stable is None or stable == candidate or step == 100:
            plan.append({candidate: 100})
        else:
            plan.append({stable: 100 - step, candidate: step})
    return plan


def blue_green_weights(stable: str | None, candidate: str, switched: bool) -> dict[str, int]:
    """All traffic on blue until the switch, all on green after it.

    >>> blue_green_weights("v1", "v2", switched=False)
    {'v1': 100}
    >>> blue_green_weights("v1", "v2", switched=True)
    {'v2': 100}
    """
    if switched or stable is None or stable == candidate:
        return {candidate: 100}
    return {stable: 100}


@dataclass(frozen=True)
class Batch:
    """One rolling batch: how many instances of each version exist once it is done."""

    new: int
    old: int


def rolling_batches(replicas: int, batch_size: int) -> list[Batch]:
    """Batches that replace `replicas` old instances, `batch_size` at a time, surge-first.

    New instances are started and checked before the same number of old ones stop, so the count
    of serving instances never drops below `replicas` (maxUnavailable = 0).

    >>> rolling_batches(3, 1)
    [Batch(new=1, old=2), Batch(new=2, old=1), Batch(new=3, old=0)]
    >>> rolling_batches(5, 2)
    [Batch(new=2, old=3), Batch(new=4, old=1), Batch(new=5, old=0)]
    """
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    batches: list[Batch] = []
    new = 0
    while new < replicas:
        new = min(replicas, new + batch_size)
        batches.append(Batch(new=new, old=replicas - new))
    return batches


def check_min_healthy(replicas: int, batch_size: int, min_healthy: int) -> None:
    """Refuse a rolling plan that could drop below `min_healthy` serving instances.

    Surge-first batches keep `replicas` instances serving, so the plan is safe when
    `min_healthy <= replicas`; the check exists so a bad request fails at validation.
    """
    if min_healthy > replicas:
        raise ValueError(
            f"min_healthy={min_healthy} is more than the {replicas} replicas the app runs"
        )
    if batch_size > replicas:
        raise ValueError(f"batch_size={batch_size} is more than replicas={replicas}")


def rolling_weights(batch: Batch, stable: str | None, candidate: str) -> dict[str, int]:
    """Traffic in proportion to instance counts (what a shared upstream does by itself).

    >>> rolling_weights(Batch(new=1, old=2), "v1", "v2")
    {'v1': 67, 'v2': 33}
    >>> rolling_weights(Batch(new=3, old=0), "v1", "v2")
    {'v2': 100}
    """
    if stable is None or stable == candidate or batch.old == 0:
        return {candidate: 100}
    if batch.new == 0:
        return {stable: 100}
    new_share = round(100 * batch.new / (batch.new + batch.old))
    new_share = min(99, max(1, new_share))
    return {stable: 100 - new_share, candidate: new_share}
