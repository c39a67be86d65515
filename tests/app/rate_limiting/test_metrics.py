"""Metrics live on the registry they are given; the null observer accepts everything."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry

from app.rate_limiting.metrics import NullObserver, PrometheusObserver


def test_metrics_are_defined_on_the_given_registry_only() -> None:
    registry = CollectorRegistry()
    observer = PrometheusObserver(registry)
    observer.decision("allowed")
    observer.decision("something-new")
    observer.backend_error("redis", "timeout")
    observer.quota("deploys", "refused")
    observer.throttle_factor(0.4)
    assert registry.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "allowed"}) == 1
    assert registry.get_sample_value(
        "floodgate_rate_limit_checks_total", {"outcome": "something-new"}) == 1
    assert registry.get_sample_value(
        "floodgate_rate_limit_backend_errors_total", {"backend": "redis", "kind": "timeout"}) == 1
    assert registry.get_sample_value(
        "floodgate_quota_checks_total", {"feature": "deploys", "outcome": "refused"}) == 1
    assert registry.get_sample_value("floodgate_rate_limit_throttle_factor") == 0.4
    assert REGISTRY.get_sample_value("floodgate_rate_limit_throttle_factor") is None


def test_two_registries_do_not_clash() -> None:
    PrometheusObserver(CollectorRegistry())
    PrometheusObserver(CollectorRegistry())


def test_the_null_observer_does_nothing() -> None:
    observer = NullObserver()
    observer.decision("allowed")
    observer.backend_error("redis", "timeout")
    observer.throttle_factor(0.5)
    observer.quota("deploys", "allowed")
