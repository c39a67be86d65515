"""How far along a rollout is, for progress bars (CLI) and progress artifacts (Prefect UI)."""

from __future__ import annotations

from flows.model import Phase, Rollout
from flows.plans import rolling_batches
from flows.spec import Strategy

_BEFORE_TRAFFIC = {Phase.PENDING: 0.0, Phase.VALIDATING: 5.0}


def steps_in_plan(rollout: Rollout, replicas: int) -> int:
    spec = rollout.spec
    if spec.strategy is Strategy.CANARY:
        return len(spec.steps)
    if spec.strategy is Strategy.BLUE_GREEN:
        return 2
    return len(rolling_batches(replicas, spec.batch_size))


def percent_done(rollout: Rollout, replicas: int) -> float:
    """0–100: validation and preparation take the first 20 %, traffic steps the next 75 %."""
    if rollout.phase in (Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED):
        return 100.0
    if rollout.phase in _BEFORE_TRAFFIC:
        return _BEFORE_TRAFFIC[rollout.phase]
    if rollout.phase is Phase.PROMOTING:
        return 97.0
    total = steps_in_plan(rollout, replicas)
    done = rollout.step + (1 if rollout.phase in (Phase.ANALYSING, Phase.PAUSED) else 0)
    return round(20.0 + 75.0 * min(done, total) / total, 1)


def describe_weights(weights: dict[str, int]) -> str:
    return " / ".join(f"{version} {pct}%" for version, pct in sorted(weights.items())) or "-"
