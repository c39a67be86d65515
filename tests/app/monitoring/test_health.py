"""HealthCheckCollector: overall state rules, deadlines, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from app.monitoring.health import (
    ComponentCheck,
    ComponentDegraded,
    ComponentHealth,
    ComponentStatus,
    HealthCheckCollector,
    OverallStatus,
    overall_status,
)

HANG_GUARD = 10  # seconds: only fails a test whose check would otherwise hang for ever


async def ok() -> None:
    return None


async def broken() -> None:
    raise ConnectionRefusedError("refused")


async def hangs() -> None:
    await asyncio.Event().wait()


def component(name: str, up: bool, critical: bool) -> ComponentHealth:
    status = ComponentStatus.UP if up else ComponentStatus.DOWN
    return ComponentHealth(name, status, critical, 1.0)


@pytest.mark.parametrize(
    ("components", "expected", "http_status"),
    [
        ([], OverallStatus.HEALTHY, 200),
        ([component("redis", True, True), component("prom", True, False)],
         OverallStatus.HEALTHY, 200),
        ([component("redis", True, True), component("prom", False, False)],
         OverallStatus.DEGRADED, 200),
        ([component("redis", False, True), component("prom", True, False)],
         OverallStatus.UNHEALTHY, 503),
        ([component("redis", False, True), component("prom", False, False)],
         OverallStatus.UNHEALTHY, 503),
    ],
)
def test_overall_status(components, expected, http_status):
    status = overall_status(components)
    assert status is expected
    assert status.http_status == http_status


async def test_failures_are_reported_with_their_reason():
    collector = HealthCheckCollector(
        [ComponentCheck("redis", ok, True), ComponentCheck("prefect", broken, False)], 1.0
    )
    report = await collector.check()
    assert report.status is OverallStatus.DEGRADED
    body = report.to_dict()
    assert body["components"]["redis"]["status"] == "up"
    assert body["components"]["prefect"] == {
        "status": "down", "critical": False,
        "latency_ms": body["components"]["prefect"]["latency_ms"],
        "error": "ConnectionRefusedError: refused",
    }


async def test_a_hung_check_is_cut_off_at_the_timeout():
    collector = HealthCheckCollector(
        [ComponentCheck("redis", ok, True), ComponentCheck("prometheus", hangs, False)], 0.05
    )
    report = await asyncio.wait_for(collector.check(), HANG_GUARD)
    prometheus = next(c for c in report.components if c.name == "prometheus")
    assert prometheus.status is ComponentStatus.DOWN
    assert prometheus.error == "no answer within 0.05s"
    assert prometheus.latency_ms >= 50
    assert report.status is OverallStatus.DEGRADED


async def test_checks_run_concurrently():
    """Each probe waits for the other to start: run one after the other, both would time out."""
    started = {name: asyncio.Event() for name in ("a", "b")}

    def waits_for(me: str, other: str):
        async def probe() -> None:
            started[me].set()
            await started[other].wait()

        return probe

    collector = HealthCheckCollector(
        [ComponentCheck("a", waits_for("a", "b"), True),
         ComponentCheck("b", waits_for("b", "a"), True)], 2.0,
    )
    report = await asyncio.wait_for(collector.check(), HANG_GUARD)
    assert report.status is OverallStatus.HEALTHY


def test_invalid_configuration_is_refused():
    with pytest.raises(ValueError, match="timeout"):
        HealthCheckCollector([], 0)
    with pytest.raises(ValueError, match="duplicate"):
        HealthCheckCollector([ComponentCheck("a", ok, True), ComponentCheck("a", ok, True)], 1)


async def test_a_degraded_component_degrades_even_when_critical():
    async def reduced() -> None:
        raise ComponentDegraded("admitting unchecked: redis unreachable")

    report = await HealthCheckCollector([ComponentCheck("rate_limiter", reduced, True)], 1).check()
    assert report.status is OverallStatus.DEGRADED
    assert report.components[0].status is ComponentStatus.DEGRADED
    assert report.components[0].error == "admitting unchecked: redis unreachable"
