"""`RolloutRequest`: what `POST /rollouts` and the CI webhook accept, checked before anything
changes.

`app/` never imports `flows/` (the control API starts rollouts through Prefect deployments by
name), so the deploy flow's `RolloutSpec` is not importable here. This model checks the shape a
person or a CI job gets wrong — app name, version, strategy, steps, env — with the same patterns
(`tests/app/control/test_models.py` holds them equal to `flows.spec`), and passes every other
`RolloutSpec` field (replicas, step_interval_seconds, health, analysis, ...) through untouched:
the Prefect server validates the whole spec against the deployment's parameter schema, and
`app.control.prefect_api` turns its refusal into a 422 naming the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from blocks.rollout_terms import AppName, Strategy, Version, check_env, check_steps

SNAPSHOT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

def _finite(value: Any, where: str) -> None:
    """Refuse NaN/Infinity anywhere: JSON cannot carry them to Prefect (or back to a client)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is {value}, not a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _finite(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _finite(item, f"{where}[{index}]")


class RolloutRequest(BaseModel):
    """Roll `app` out to `version`; other `RolloutSpec` fields pass through to Prefect."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "app": "fraud-api",
                    "version": "v2",
                    "strategy": "canary",
                    "steps": [10, 50, 100],
                    "env": {"MODEL": "2024-06"},
                }
            ]
        },
    )

    app: AppName
    version: Version
    strategy: Strategy = Strategy.CANARY
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment for the new version."
    )
    steps: list[int] | None = Field(
        None, description="Canary weights in percent, increasing, ending at 100 (default "
        "5, 10, 50, 100).",
    )

    @field_validator("env")
    @classmethod
    def _env_keys(cls, env: dict[str, str]) -> dict[str, str]:
        check_env(env)
        return env

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: list[int] | None) -> list[int] | None:
        if steps is not None:
            check_steps(steps)
        return steps

    @model_validator(mode="after")
    def _extras_are_json(self) -> RolloutRequest:
        for key, value in (self.model_extra or {}).items():
            _finite(value, key)
        return self

    def spec(self) -> dict[str, Any]:
        """The `spec` parameter of the deploy deployment: what was given, plus the strategy
        (always explicit, so the record and the conflict check agree on it)."""
        spec = self.model_dump(mode="json", exclude_unset=True)
        spec["strategy"] = self.strategy.value
        json.dumps(spec, allow_nan=False)  # guaranteed by the validators; fail loudly if not
        return spec
