"""The rollout record and its state machine.

A `Rollout` is stored by the target (a JSON file for the local target, a ConfigMap on Kubernetes),
never only in a flow's memory: whoever runs the next tick — the `deploy` flow, a scheduled
`progress` run, or `floodgate resume` after a crash — reads the record and continues from it.
Every phase change goes through `Rollout.transition`, which refuses moves the table below does not
allow and always records a reason.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from flows.errors import InvalidTransition
from flows.spec import RolloutSpec


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp in a record is UTC."""
    return datetime.now(UTC)


class Phase(StrEnum):
    """Where a rollout is. The six workflow steps map onto the middle phases."""

    PENDING = "Pending"
    VALIDATING = "Validating"  # step 1: migrations, dependencies, critical config
    PREPARING = "Preparing"  # step 2: start the new version's instances (green / canary / batch)
    VERIFYING = "Verifying"  # step 3: HTTP health checks of every new instance
    ANALYSING = "Analysing"  # step 4: compare the new version's metrics with the baseline
    SHIFTING = "Shifting"  # step 5: move traffic (switch, next canary weight, next batch)
    PAUSED = "Paused"  # waiting for `floodgate promote` (a manual gate)
    PROMOTING = "Promoting"  # step 6a: the new version becomes stable, the old one is retired
    ROLLING_BACK = "RollingBack"  # step 6b: restore the snapshot taken before any change
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"
    FAILED = "Failed"  # refused before any change (validation), or could not be completed

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED})

_ACTIVE = {
    Phase.PREPARING,
    Phase.VERIFYING,
    Phase.ANALYSING,
    Phase.SHIFTING,
    Phase.PAUSED,
    Phase.PROMOTING,
}

ALLOWED: dict[Phase, frozenset[Phase]] = {
    Phase.PENDING: frozenset({Phase.VALIDATING, Phase.ROLLING_BACK, Phase.FAILED}),
    Phase.VALIDATING: frozenset({Phase.PREPARING, Phase.FAILED}),
    Phase.PREPARING: frozenset({Phase.VERIFYING, Phase.ROLLING_BACK}),
    Phase.VERIFYING: frozenset(
        {Phase.ANALYSING, Phase.SHIFTING, Phase.PROMOTING, Phase.ROLLING_BACK}
    ),
    Phase.ANALYSING: frozenset(
        {Phase.SHIFTING, Phase.PREPARING, Phase.PAUSED, Phase.PROMOTING, Phase.ROLLING_BACK}
    ),
    Phase.SHIFTING: frozenset({Phase.ANALYSING, Phase.ROLLING_BACK}),
    Phase.PAUSED: frozenset({Phase.SHIFTING, Phase.PROMOTING, Phase.ROLLING_BACK}),
    Phase.PROMOTING: frozenset({Phase.SUCCEEDED, Phase.ROLLING_BACK}),
    Phase.ROLLING_BACK: frozenset({Phase.ROLLED_BACK, Phase.FAILED}),
    Phase.SUCCEEDED: frozenset(),
    Phase.ROLLED_BACK: frozenset(),
    Phase.FAILED: frozenset(),
}

# Phases in which the target may already have changed: an interrupted rollout here must end
# promoted or rolled back, never left as it is.
CHANGED_TARGET = frozenset(_ACTIVE | {Phase.ROLLING_BACK})


class Transition(BaseModel):
    """One recorded phase change: the audit trail `floodgate history` shows."""

    at: datetime
    from_phase: Phase
    to_phase: Phase
    step: int
    reason: str


class Verdict(StrEnum):
    """Outcome of one analysis; worst wins when combining (Fail > Inconclusive > Pass)."""

    PASS = "Pass"
    INCONCLUSIVE = "Inconclusive"
    FAIL = "Fail"
    ERROR = "Error"  # the measurement itself failed (query error); counted, never a pass


class AnalysisRecord(BaseModel):
    """One analysis run as stored in the rollout record."""

    at: datetime
    step: int
    weight: int
    verdict: Verdict
    reason: str
    candidate: dict[str, float | None] = Field(default_factory=dict)
    baseline: dict[str, float | None] = Field(default_factory=dict)


class Counters(BaseModel):
    """Counted analysis limits (Argo's failureLimit / inconclusiveLimit / consecutiveErrorLimit)."""

    failures: int = 0
    inconclusive: int = 0
    consecutive_errors: int = 0


class Rollout(BaseModel):
    """Everything needed to continue a rollout from any process, at any time."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    spec: RolloutSpec
    kind: Literal["rollout", "restore"] = Field(
        "rollout", description="'restore': a `floodgate rollback` to a chosen snapshot."
    )
    from_version: str | None = None
    phase: Phase = Phase.PENDING
    step: int = 0
    weights: dict[str, int] = Field(default_factory=dict)
    snapshot_id: str | None = None
    analyses: list[AnalysisRecord] = Field(default_factory=list)
    counters: Counters = Field(default_factory=Counters)
    transitions: list[Transition] = Field(default_factory=list)
    reason: str = "created"
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    phase_since: datetime = Field(default_factory=utcnow)
    flow_run_ids: list[str] = Field(default_factory=list)

    @property
    def app(self) -> str:
        return self.spec.app

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def terminal(self) -> bool:
        return self.phase.terminal

    def transition(self, to: Phase, reason: str, *, step: int | None = None) -> Rollout:
        """Return a copy moved to `to`; raise `InvalidTransition` if the table forbids it."""
        if to not in ALLOWED[self.phase]:
            raise InvalidTransition(f"{self.phase} -> {to} is not allowed ({reason})")
        now = utcnow()
        new_step = self.step if step is None else step
        record = Transition(
            at=now, from_phase=self.phase, to_phase=to, step=new_step, reason=reason
        )
        return self.model_copy(
            update={
                "phase": to,
                "step": new_step,
                "reason": reason,
                "updated_at": now,
                "phase_since": now,
                "transitions": [*self.transitions, record],
            }
        )

    def restart_clock(self, reason: str) -> Rollout:
        """Stay in the phase but start its dwell again (e.g. after an inconclusive analysis)."""
        now = utcnow()
        return self.model_copy(update={"phase_since": now, "updated_at": now, "reason": reason})

    def with_updates(self, **changes: object) -> Rollout:
        """Copy with fields changed and `updated_at` bumped (records are never mutated)."""
        return self.model_copy(update={**changes, "updated_at": utcnow()})
