"""How rate-limiting events reach Prometheus, on the project's registry (never the global one).

The limiter reports through the small `RateLimitObserver` protocol. Two implementations:
`NullObserver` (the default: no metrics) and `PrometheusObserver(registry)`, which defines the
counters on the `CollectorRegistry` the monitoring module owns. The monitoring engineer may also
implement the protocol themselves (callbacks into their `MetricsCollector`).

Labels are bounded sets (outcome, backend, error kind, feature name) — never client keys or paths.

The per-request counter (`checks_total{outcome}`) is kept in plain ints and exported at scrape
time, as `app.monitoring.http_metrics` does for the HTTP metrics: a `prometheus_client.Counter`
takes a lock on every `inc()`, which is a measurable share of an in-memory check. Decisions are
only reported from the event loop thread, so the plain updates need no lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

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


class DecisionCounts(Collector):
    """`<namespace>_rate_limit_checks_total{outcome}`: one int per outcome, exported on scrape.

    Every known outcome is exported from the start (at 0), like a labelled Counter whose
    children were created up front, so `rate()` over a first refusal works."""

    def __init__(self, namespace: str) -> None:
        self.name = f"{namespace}_rate_limit_checks"
        self.counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)

    def inc(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            self.name, "Rate-limit decisions by outcome.", labels=["outcome"]
        )
        for outcome, count in list(self.counts.items()):
            family.add_metric([outcome], count)
        yield family

    def describe(self) -> Iterator[Metric]:
        """The name only, so registering a second one on a registry fails at once."""
        yield CounterMetricFamily(self.name, "", labels=["outcome"])


class PrometheusObserver:
    """Counters and a gauge on the given registry."""

    def __init__(self, registry: CollectorRegistry, *, namespace: str = "floodgate") -> None:
        self.checks = DecisionCounts(namespace)
        registry.register(self.checks)
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

    def decision(self, outcome: str) -> None:
        counts = self.checks.counts  # DecisionCounts.inc, inline: called for every request
        counts[outcome] = counts.get(outcome, 0) + 1

    def backend_error(self, backend: str, kind: str) -> None:
        self.backend_errors.labels(backend, kind).inc()

    def throttle_factor(self, factor: float) -> None:
        self.factor.set(factor)

    def quota(self, feature: str, outcome: str) -> None:
        self.quotas.labels(feature, outcome).inc()
