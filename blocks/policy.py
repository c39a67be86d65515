"""Analysis policy: the thresholds and counted limits a canary is judged by.

The model is plain pydantic so the pure analysis code (and a fast CLI) can use it without
importing Prefect; `blocks.policy_block` wraps it so SREs keep named policies in the Prefect UI.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AnalysisPolicy(BaseModel):
    """Defaults: error rate ≤ 5 % and ≤ baseline + 1 point; p95 ≤ 1 s and ≤ 1.2 × baseline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_seconds: float = Field(60, ge=2, le=86_400, description="Range of each query.")
    max_error_rate: float = Field(0.05, ge=0, le=1, description="Absolute error-rate ceiling.")
    max_error_rate_increase: float = Field(
        0.01, ge=0, le=1, description="Allowed excess over the baseline's error rate."
    )
    max_p95_seconds: float = Field(1.0, gt=0, description="Absolute p95 latency ceiling.")
    max_p95_ratio: float = Field(1.2, ge=1, description="Allowed p95 relative to the baseline.")
    p95_tolerance_seconds: float = Field(
        0.025,
        ge=0,
        description=(
            "The relative p95 rule only fails when the candidate is also this much slower in "
            "absolute terms: 4 ms against 3 ms is 1.33x but noise, not a regression."
        ),
    )
    min_requests: int = Field(
        20, ge=1, description="Fewer candidate requests in the window is inconclusive."
    )
    failure_limit: int = Field(
        0, ge=0, description="Failed analyses tolerated; one more rolls back."
    )
    inconclusive_limit: int = Field(
        3, ge=0, description="Inconclusive analyses tolerated; one more rolls back."
    )
    consecutive_error_limit: int = Field(
        2, ge=0, description="Consecutive query errors tolerated; one more rolls back."
    )
