"""What a user asks for: the parameters of a rollout, validated before anything changes.

`RolloutSpec` is also the `deploy` flow's parameter model, so Prefect renders it as the UI's
form (enums, bounds and descriptions become form widgets) and validates runs server-side.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from blocks.policy import AnalysisPolicy
from blocks.rollout_terms import (
    DEFAULT_CANARY_STEPS,
    AppName,
    Strategy,
    Version,
    check_env,
    check_steps,
)

__all__ = ["HealthCheck", "RolloutSpec", "Strategy", "Validation"]

class HealthCheck(BaseModel):
    """Step 3: HTTP checks of every new instance, retried as a Prefect task."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field("/health", pattern=r"^/[^\s]*$", description="Probed on every instance.")
    retries: int = Field(5, ge=0, le=100, description="Retries after the first failed check.")
    retry_delay_seconds: float = Field(10, ge=0, le=3600, description="Pause between tries.")
    timeout_seconds: float = Field(2, gt=0, le=60, description="Per HTTP probe.")


class Validation(BaseModel):
    """Step 1: checks that run before anything changes; added to the app's own checks."""

    model_config = ConfigDict(extra="forbid")

    migration_check: list[str] | None = Field(
        None, description="Command that must exit 0, e.g. ['alembic', 'check']."
    )
    migration_timeout_seconds: float = Field(
        120, gt=0, le=3600, description="The migration check fails when it runs longer."
    )
    required_config: list[str] = Field(
        default_factory=list, description="Keys that must be present and non-empty."
    )
    requires: list[str] = Field(
        default_factory=list,
        description="Dependency constraints of the new version, e.g. 'payments>=2.3'.",
    )


class RolloutSpec(BaseModel):
    """A rollout request: which app goes to which version, how, and how it is judged."""

    model_config = ConfigDict(extra="forbid")

    app: AppName
    version: Version
    strategy: Strategy = Field(Strategy.CANARY, description="blue-green, canary or rolling.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment for the new version."
    )
    replicas: int | None = Field(None, ge=1, le=100, description="Default: the app's count.")
    steps: list[int] = Field(
        default_factory=lambda: list(DEFAULT_CANARY_STEPS),
        description="Canary weights in percent, increasing, ending at 100.",
    )
    step_interval_seconds: float = Field(
        60, ge=0, le=7 * 86_400, description="Dwell at each canary step before its analysis."
    )
    step_intervals_seconds: list[Annotated[float, Field(ge=0, le=7 * 86_400)]] | None = Field(
        None,
        description="Dwell per canary step (one per step); overrides step_interval_seconds.",
    )
    batch_size: int = Field(1, ge=1, le=100, description="Rolling: instances replaced at once.")
    min_healthy: int | None = Field(
        None, ge=0, description="Rolling: never fewer healthy instances (default: replicas)."
    )
    keep_previous_seconds: float = Field(
        30, ge=0, le=86_400, description="Blue-green: how long blue stays up after the switch."
    )
    pause_before_promote: bool = Field(
        False, description="Wait for `floodgate promote` (or the Prefect UI) before the last step."
    )
    pause_timeout_seconds: float = Field(
        86_400, ge=60, le=30 * 86_400, description="No decision at the gate in time: abort."
    )
    health: HealthCheck = Field(default_factory=HealthCheck, description="Step 3, below.")
    analysis: AnalysisPolicy = Field(default_factory=AnalysisPolicy, description="Step 4, below.")
    validation: Validation = Field(default_factory=Validation, description="Step 1, below.")

    @field_validator("env")
    @classmethod
    def _env_keys(cls, env: dict[str, str]) -> dict[str, str]:
        check_env(env)
        return env

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: list[int]) -> list[int]:
        check_steps(steps)
        return steps

    @field_validator("step_intervals_seconds")
    @classmethod
    def _one_dwell_per_step(
        cls, dwells: list[float] | None, info: ValidationInfo
    ) -> list[float] | None:
        steps = info.data.get("steps")
        if dwells is not None and steps is not None and len(dwells) != len(steps):
            raise ValueError(f"{len(dwells)} values for {len(steps)} steps")
        return dwells

    def dwell(self, step: int) -> float:
        """Seconds to wait at canary step `step` before its analysis."""
        if self.step_intervals_seconds is not None:
            return self.step_intervals_seconds[min(step, len(self.step_intervals_seconds) - 1)]
        return self.step_interval_seconds

    @model_validator(mode="after")
    def _rolling_bounds(self) -> RolloutSpec:
        if (
            self.replicas is not None
            and self.min_healthy is not None
            and self.min_healthy > self.replicas
        ):
            raise ValueError(
                f"min_healthy ({self.min_healthy}) cannot exceed replicas ({self.replicas})"
            )
        return self
