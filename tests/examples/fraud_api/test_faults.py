"""Fault injection by environment, measured by the runtime's metrics like real faults."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from app.config import Settings
from examples.fraud_api.faults import FaultSettings
from examples.fraud_api.main import create_service
from tests.examples.fraud_api.conftest import ServiceFactory
from tests.examples.fraud_api.test_scoring import BASE


async def test_error_rate_one_fails_every_business_request_but_not_probes(
    fraud_api: ServiceFactory,
) -> None:
    async with fraud_api(fault_error_rate=1.0) as client:
        for _ in range(10):
            assert (await client.post("/score", json=BASE)).status_code == 500
        assert (await client.get("/health")).status_code == 200
        text = (await client.get("/metrics")).text
    assert 'route="/score",status="500",version="v3"} 10.0' in text


async def test_partial_error_rate_is_a_fraction(fraud_api: ServiceFactory) -> None:
    async with fraud_api(fault_error_rate=0.3) as client:
        failed = sum([(await client.get("/model")).status_code == 500 for _ in range(400)])
    assert 60 <= failed <= 180  # binomial(400, .3): sd 9.2, so 6 sd either side


async def test_latency_is_added_to_business_requests(fraud_api: ServiceFactory) -> None:
    async with fraud_api(fault_latency_ms=150) as client:
        started = time.perf_counter()
        assert (await client.get("/model")).status_code == 200
        assert time.perf_counter() - started >= 0.15  # a lower bound: cannot flake
        text = (await client.get("/metrics")).text
    under_100ms = [line for line in text.splitlines()
                   if line.startswith("http_request_duration_seconds_bucket")
                   and 'route="/model"' in line and 'le="0.1"' in line]
    assert under_100ms
    assert under_100ms[0].endswith(" 0.0")


async def test_unhealthy_flag_fails_health_only(fraud_api: ServiceFactory) -> None:
    async with fraud_api(fault_unhealthy=True) as client:
        health = await client.get("/health")
        assert health.status_code == 503
        assert health.headers["x-version"] == "v3"
        assert (await client.get("/model")).status_code == 200
        assert 'route="/health",status="503"' in (await client.get("/metrics")).text


def test_startup_delay_delays_creation() -> None:
    started = time.perf_counter()
    create_service(Settings(), FaultSettings(startup_delay_seconds=0.2))
    assert time.perf_counter() - started >= 0.2


def test_invalid_fault_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_ERROR_RATE", "1.5")
    with pytest.raises(ValidationError, match="fault_error_rate"):
        FaultSettings()
