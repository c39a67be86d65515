"""`HealthCheckCollector`: checks every configured dependency concurrently, each under a deadline.

Each check is bounded by `asyncio.timeout`, so one hung dependency (accepts the connection,
never answers) costs at most the timeout and cannot hang `/health/detailed`; checks run
concurrently, so the endpoint answers in about max(latency) rather than their sum.

Overall state and HTTP status (decided here, documented in the README):
* `healthy`   — every check passed                         → 200
* `degraded`  — only OPTIONAL components failed, or a component
                reports itself degraded                     → 200 (keep serving traffic: a load
                balancer must not pull every replica because Prometheus is down)
* `unhealthy` — at least one CRITICAL component failed      → 503
Which components are critical is configuration (`HEALTH_CRITICAL_COMPONENTS`, default
`["redis"]`: sessions and the shared rate limit live there; Prometheus, the Prefect API and the
Kubernetes API are the control and observation plane, so they only degrade).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Probe = Callable[[], Awaitable[None]]
"""Returns when the dependency is fine; raises `ComponentDegraded` when it works in a reduced
way (e.g. a rate limiter admitting unchecked while Redis is away), anything else when down."""


class ComponentDegraded(Exception):
    """Raised by a probe whose component works, but in a reduced way."""


class ComponentStatus(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


class OverallStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    @property
    def http_status(self) -> int:
        return 503 if self is OverallStatus.UNHEALTHY else 200


@dataclass(frozen=True)
class ComponentCheck:
    """One dependency to check: a probe and whether its failure makes the service unhealthy."""

    name: str
    probe: Probe
    critical: bool


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    status: ComponentStatus
    critical: bool
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    status: OverallStatus
    components: tuple[ComponentHealth, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "components": {
                c.name: {
                    "status": c.status.value,
                    "critical": c.critical,
                    "latency_ms": round(c.latency_ms, 3),
                    "error": c.error,
                }
                for c in self.components
            },
        }


def overall_status(components: Sequence[ComponentHealth]) -> OverallStatus:
    """A critical component down → unhealthy; any other component down, or any degraded →
    degraded; otherwise healthy."""
    if any(c.critical and c.status is ComponentStatus.DOWN for c in components):
        return OverallStatus.UNHEALTHY
    if any(c.status is not ComponentStatus.UP for c in components):
        return OverallStatus.DEGRADED
    return OverallStatus.HEALTHY


class HealthCheckCollector:
    """Runs its checks concurrently, each bounded by `timeout_seconds`."""

    def __init__(self, checks: Sequence[ComponentCheck], timeout_seconds: float) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {timeout_seconds}")
        names = [c.name for c in checks]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate health check names: {names}")
        self.checks = tuple(checks)
        self.timeout_seconds = timeout_seconds

    async def check(self) -> HealthReport:
        results = await asyncio.gather(*(self._run(c) for c in self.checks))
        return HealthReport(overall_status(results), tuple(results))

    async def _run(self, check: ComponentCheck) -> ComponentHealth:
        start = time.perf_counter()
        status, error = ComponentStatus.DOWN, None
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await check.probe()
            status = ComponentStatus.UP
        except TimeoutError:
            error = f"no answer within {self.timeout_seconds:g}s"
        except ComponentDegraded as exc:
            status, error = ComponentStatus.DEGRADED, str(exc)[:300]
        except Exception as exc:  # a failing dependency is a result here, not an error
            error = f"{type(exc).__name__}: {exc}"[:300]
        latency_ms = (time.perf_counter() - start) * 1000
        return ComponentHealth(check.name, status, check.critical, latency_ms, error)
