"""Turn `floodgate deploy` options into a validated `RolloutSpec`, or a message naming
the option at fault."""

from __future__ import annotations

import shlex
from typing import Any

from flows.errors import BadInput
from flows.spec import RolloutSpec, Strategy


def parse_env(pairs: list[str]) -> dict[str, str]:
    """`--env KEY=VALUE`, repeatable; the value may contain '=' and be empty."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    return env


def parse_steps(text: str) -> list[int]:
    """`--steps 5,10,50,100`."""
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise BadInput(
            f"--steps {text!r}: expected comma-separated integers like 5,10,50,100"
        ) from None


def parse_intervals(text: str) -> list[float]:
    """`--step-interval 30` or one value per step, `--step-interval 30,60,60,120`."""
    try:
        return [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise BadInput(
            f"--step-interval {text!r}: expected seconds, or one value per step like 30,60,120"
        ) from None


def build_spec(
    *,
    app: str,
    version: str,
    strategy: Strategy,
    env: list[str],
    steps: str | None,
    step_interval: str | None,
    replicas: int | None,
    batch_size: int | None,
    min_healthy: int | None,
    keep_previous: float | None,
    pause_before_promote: bool,
    pause_timeout: float | None = None,
    requires: list[str],
    required_config: list[str],
    migration_check: str | None,
    health_retries: int | None,
    health_delay: float | None,
    health_path: str | None,
    analysis_window: float | None,
    min_requests: int | None,
    p95_tolerance: float | None = None,
) -> RolloutSpec:
    """Only options the user gave override the spec's defaults."""
    fields: dict[str, Any] = {
        "app": app,
        "version": version,
        "strategy": strategy,
        "env": parse_env(env),
        "pause_before_promote": pause_before_promote,
    }
    if step_interval is not None:
        intervals = parse_intervals(step_interval)
        if len(intervals) == 1:
            fields["step_interval_seconds"] = intervals[0]
        else:
            fields["step_intervals_seconds"] = intervals
    optional = {
        "replicas": replicas,
        "batch_size": batch_size,
        "min_healthy": min_healthy,
        "keep_previous_seconds": keep_previous,
        "pause_timeout_seconds": pause_timeout,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    if steps is not None:
        fields["steps"] = parse_steps(steps)
    health = {
        "retries": health_retries,
        "retry_delay_seconds": health_delay,
        "path": health_path,
    }
    if any(v is not None for v in health.values()):
        fields["health"] = {k: v for k, v in health.items() if v is not None}
    analysis = {"window_seconds": analysis_window, "min_requests": min_requests,
                "p95_tolerance_seconds": p95_tolerance}
    if any(v is not None for v in analysis.values()):
        fields["analysis"] = {k: v for k, v in analysis.items() if v is not None}
    validation: dict[str, Any] = {}
    if requires:
        validation["requires"] = requires
    if required_config:
        validation["required_config"] = required_config
    if migration_check:
        validation["migration_check"] = shlex.split(migration_check)
    if validation:
        fields["validation"] = validation
    return RolloutSpec.model_validate(fields)
