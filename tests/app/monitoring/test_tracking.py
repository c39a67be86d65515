"""track_request_metrics(): sync and async functions, success and failure."""

from __future__ import annotations

import pytest

from app.monitoring.metrics import MetricsCollector
from app.monitoring.tracking import track_request_metrics


def value(collector: MetricsCollector, name: str, **labels: str) -> float | None:
    return collector.registry.get_sample_value(name, {"app": "a", "version": "1", **labels})


def test_sync_function_success_and_error():
    collector = MetricsCollector("a", "1")

    @track_request_metrics(collector, "import-batch")
    def work(fail: bool) -> str:
        if fail:
            raise ValueError("bad batch")
        return "done"

    assert work(False) == "done"
    with pytest.raises(ValueError, match="bad batch"):
        work(True)

    assert value(collector, "operations_total", operation="import-batch", outcome="success") == 1
    assert value(collector, "operations_total", operation="import-batch", outcome="error") == 1
    assert value(collector, "operation_duration_seconds_count", operation="import-batch") == 2
    assert value(collector, "unhandled_exceptions_total", type="ValueError") == 1


async def test_async_function_keeps_its_name_and_result():
    collector = MetricsCollector("a", "1")

    @track_request_metrics(collector)
    async def refresh_model(version: int) -> int:
        return version + 1

    assert await refresh_model(1) == 2
    assert refresh_model.__name__ == "refresh_model"
    operation = refresh_model.__qualname__
    assert value(collector, "operations_total", operation=operation, outcome="success") == 1


async def test_async_failure_is_recorded_and_reraised():
    collector = MetricsCollector("a", "1")

    @track_request_metrics(collector, "sync-features")
    async def sync() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        await sync()
    assert value(collector, "operations_total", operation="sync-features", outcome="error") == 1
    assert value(collector, "unhandled_exceptions_total", type="ConnectionError") == 1
