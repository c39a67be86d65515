"""The `MetricsSource` port: request counts, error rate and p95 latency per (app, version).

Query failures and empty results are *measurements* (`error`, `None` values), not exceptions, so
the pure analysis can count them against its limits (Argo's consecutiveErrorLimit) instead of
crashing a rollout — and so "Prometheus unreachable" can never be mistaken for a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Measurement:
    """One version's traffic over a window. `None` means "no data", `error` a failed query."""

    requests: float | None = None
    error_rate: float | None = None
    p95_seconds: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {
            "requests": self.requests,
            "error_rate": self.error_rate,
            "p95_seconds": self.p95_seconds,
        }


@runtime_checkable
class MetricsSource(Protocol):
    """Where analysis numbers come from (Prometheus in production, fakes in unit tests)."""

    def measure(self, app: str, version: str, window_seconds: float) -> Measurement: ...
