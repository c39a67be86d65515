"""A read-only view of the rollout record the target stores.

The record belongs to `flows` (`flows.model.Rollout`), which `app/` may not import; the control
API only reads the fields it answers with or decides on. Unknown fields are ignored, so the flows
can add to the record freely; the phase names and the command rules below mirror
`flows.model` / `flows.cli.rollouts`, and `tests/app/control/test_records.py` holds them equal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.control.errors import ControlError

TERMINAL_PHASES = frozenset({"Succeeded", "RolledBack", "Failed"})
ROLLING_BACK = "RollingBack"
PROMOTABLE_PHASES = frozenset({"Analysing", "Paused"})  # where a step can be passed by hand
COMMANDS = ("abort", "promote", "promote-full")


class RecordSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    app: str
    version: str
    strategy: str = "canary"


class RolloutView(BaseModel):
    """What the API shows of one rollout record."""

    model_config = ConfigDict(extra="ignore")

    id: str
    spec: RecordSpec
    kind: str = "rollout"
    from_version: str | None = None
    phase: str
    step: int = 0
    weights: dict[str, int] = Field(default_factory=dict)
    snapshot_id: str | None = None
    reason: str = ""
    created_at: datetime
    updated_at: datetime
    flow_run_ids: list[str] = Field(default_factory=list)
    transitions: list[dict[str, Any]] = Field(default_factory=list)
    analyses: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @property
    def last_flow_run_id(self) -> str | None:
        return self.flow_run_ids[-1] if self.flow_run_ids else None

    def summary(self) -> dict[str, Any]:
        """The record without its (long) transition and analysis lists."""
        return {
            "id": self.id,
            "kind": self.kind,
            "version": self.version,
            "from_version": self.from_version,
            "strategy": self.spec.strategy,
            "phase": self.phase,
            "step": self.step,
            "weights": self.weights,
            "snapshot_id": self.snapshot_id,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "flow_run_ids": self.flow_run_ids,
        }

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "transitions": self.transitions, "analyses": self.analyses}


def read_record(app: str, raw: dict[str, Any] | None) -> RolloutView | None:
    """Parse a stored record; one the API cannot read is a server-side fault named as such."""
    if raw is None:
        return None
    try:
        return RolloutView.model_validate(raw)
    except ValidationError as error:
        raise ControlError(
            500, f"the rollout record of {app} is unreadable: {error.errors()[0]['msg']}"
        ) from error


def command_refusal(command: str, rollout: RolloutView | None, app: str) -> str | None:
    """Why `command` cannot be sent now (None: it can), with the same rules as the CLI."""
    if rollout is None:
        return f"cannot {command} {app}: it has no rollout"
    if command == "abort":
        allowed = rollout.phase not in TERMINAL_PHASES and rollout.phase != ROLLING_BACK
    else:
        allowed = rollout.phase in PROMOTABLE_PHASES
    if allowed:
        return None
    return f"cannot {command} {app}: its rollout {rollout.id} is in phase {rollout.phase}"
