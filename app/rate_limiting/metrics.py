"""How rate-limiting events reach Prometheus, on the project's registry (never the global one).

The limiter reports through the small `RateLimitObserver` protocol. Two implementations:
`NullObserver` (the default: no metrics) and `PrometheusObserver(registry)`, which defines the
counters on the `CollectorRegistry` the monitoring module owns. The monitoring engineer may also
implement the protocol themselves (callbacks into their `MetricsCollector`).

Labels are bounded sets (outcome, backend, error kind, feature name) — never client keys or paths.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge

OUTCOMES = ("allowed", "refused", "failed_open", "failed_closed")


class RateLimitObserver(Protocol):
    """Callbacks the rate-limiting parts make; each must be cheap and never raise."""

    def decision(self, outcome: str) -> None:
        """One check ended: allowed | refused | failed_open | failed_closed."""

    def backend_error(self, backend: str, kind: str) -> None:
        """A backend call failed: kind is timeout | connection | response | circuit_open | ..."""

    def throttle_factor(self, factor: float) -> None:
        """Dynamic throttling changed the share of the configured limit now granted."""

    def quota(self, feature: str, outcome: str) -> None:
        """A quota check for `feature` ended: allowed | refused | failed_open | failed_closed."""


class NullObserver:
    """Reports nowhere (a no-op object rather than `None` checks on the hot path)."""

    def decision(self, outcome: str) -> None:
        return None

    def backend_error(self, backend: str, kind: str) -> None:
        return None

    def throttle_factor(self, factor: float) -> None:
        return None

    def quota(self, feature: str, outcome: str) -> None:
        return None


class PrometheusObserver:
    """Counters and a gauge on the given registry."""

    def __init__(self, registry: CollectorRegistry, *, namespace: str = "floodgate") -> None:
        self.checks = Counter(
            "rate_limit_checks", "Rate-limit decisions by outcome.",
            ["outcome"], namespace=namespace, registry=registry,
        )
        self.backend_errors = Counter(
            "rate_limit_backend_errors", "Rate-limit backend failures by backend and kind.",
            ["backend", "kind"], namespace=namespace, registry=registry,
        )
        self.factor = Gauge(
            "rate_limit_throttle_factor",
            "Share of the configured rate limit granted now (1 = no throttling).",
            namespace=namespace, registry=registry,
        )
        self.quotas = Counter(
            "quota_checks", "Quota decisions by feature and outcome.",
            ["feature", "outcome"], namespace=namespace, registry=registry,
        )
        self.factor.set(1.0)
        # Resolve the hot-path children once: a labels() lookup per request is measurable.
        self._by_outcome = {outcome: self.checks.labels(outcome) for outcome in OUTCOMES}

    def decision(self, outcome: str) -> None:
        child = self._by_outcome.get(outcome)
        (child if child is not None else self.checks.labels(outcome)).inc()

    def backend_error(self, backend: str, kind: str) -> None:
        self.backend_errors.labels(backend, kind).inc()

    def throttle_factor(self, factor: float) -> None:
        self.factor.set(factor)

    def quota(self, feature: str, outcome: str) -> None:
        self.quotas.labels(feature, outcome).inc()
