"""Dynamic throttling: a scripted load signal and a fake clock drive the factor step by step."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import CollectorRegistry

from app.rate_limiting.metrics import PrometheusObserver
from app.rate_limiting.throttling import (
    DynamicThrottling,
    EventLoopLag,
    HighestLoad,
    InFlightRequests,
)


class ScriptedLoad:
    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def load(self) -> float:
        return self.value


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(load: ScriptedLoad, clock: FakeClock, **kwargs: float) -> DynamicThrottling:
    return DynamicThrottling(load, interval_seconds=1.0, clock=clock, **kwargs)


def test_limits_drop_above_eighty_percent_and_recover_gradually() -> None:
    load, clock = ScriptedLoad(0.95), FakeClock()
    throttling = make(load, clock)
    limits = []
    for second in range(12):
        if second == 3:
            load.value = 0.3  # load is gone
        clock.now = float(second)
        limits.append(throttling.effective_limit(100))
    # 0.95 > 0.8: halve each second (floor 20 %); below 0.7: +10 % per second up to 100 %
    assert limits == [50, 25, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100]


def test_between_restore_and_threshold_the_factor_holds() -> None:
    load, clock = ScriptedLoad(0.9), FakeClock()
    throttling = make(load, clock)
    assert throttling.effective_limit(100) == 50
    load.value = 0.75  # not overloaded, not calm enough to restore
    for second in range(1, 5):
        clock.now = float(second)
        assert throttling.effective_limit(100) == 50


def test_the_signal_is_sampled_at_most_once_per_interval() -> None:
    load, clock = ScriptedLoad(0.95), FakeClock()
    throttling = make(load, clock)
    assert [throttling.effective_limit(100) for _ in range(10)] == [50] * 10
    clock.now = 0.99
    assert throttling.effective_limit(100) == 50
    clock.now = 1.0
    assert throttling.effective_limit(100) == 25


def test_the_limit_never_drops_below_one() -> None:
    throttling = make(ScriptedLoad(5.0), FakeClock(), min_factor=0.01)
    assert throttling.effective_limit(3) == 1


def test_factor_changes_reach_the_gauge() -> None:
    registry = CollectorRegistry()
    load, clock = ScriptedLoad(0.95), FakeClock()
    throttling = DynamicThrottling(load, clock=clock, observer=PrometheusObserver(registry))
    throttling.factor()
    assert registry.get_sample_value("floodgate_rate_limit_throttle_factor") == 0.5


def test_in_flight_requests_are_load_relative_to_capacity() -> None:
    in_flight = InFlightRequests(capacity=10)
    for _ in range(9):
        in_flight.enter()
    assert in_flight.load() == pytest.approx(0.9)
    in_flight.exit()
    assert in_flight.load() == pytest.approx(0.8)


def test_the_busiest_signal_wins() -> None:
    assert HighestLoad([ScriptedLoad(0.2), ScriptedLoad(0.9)]).load() == 0.9


async def test_event_loop_lag_sees_a_blocked_loop() -> None:
    lag = EventLoopLag(budget_seconds=0.1, interval_seconds=0.01)
    lag.start()
    await asyncio.sleep(0.03)
    time.sleep(0.25)  # noqa: ASYNC251 — blocking the loop on purpose: that is what we measure
    await asyncio.sleep(0.03)
    await lag.stop()
    assert lag.load() >= 1.5  # the 0.25 s stall, held although later ticks were on time
    assert lag.load() < 1.5  # read once: back to the latest sample


def test_recorded_lag_is_held_until_read() -> None:
    lag = EventLoopLag(budget_seconds=0.1)
    lag.record(0.3)
    lag.record(0.01)
    assert lag.load() == pytest.approx(3.0)
    assert lag.load() == pytest.approx(0.1)


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0}, {"decrease": 1.0}, {"min_factor": 0}, {"restore_below": 0.95}],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        DynamicThrottling(ScriptedLoad(), **kwargs)
