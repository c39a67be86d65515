"""The stack manager: idempotent up, status, extra processes, outages, a clean down."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from blocks.errors import TargetError
from blocks.local.prometheus import PrometheusServer
from tests.support.local_stack import RunningStack, running_local_stack
from tests.support.ports import free_port

RATE = 25.0


@pytest.fixture(scope="module")
def busy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack with the load generator on (25 req/s to the entry port, 2.5 to preview)."""
    with running_local_stack(tmp_path_factory.mktemp("busy"), loadgen_rate=RATE) as stack:
        yield stack


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def test_up_starts_everything_and_reports_it(busy_stack: RunningStack) -> None:
    status = busy_stack.stack.status()
    assert {name for name, s in status.items() if s.up} == \
        {"nginx", "prometheus", "loadgen", "app:fraud-api"}
    assert status["nginx"].port == busy_stack.settings.admin_port
    assert status["prometheus"].port == busy_stack.settings.prometheus_port
    assert "2/2 instances ready" in status["app:fraud-api"].detail
    assert status["app:fraud-api"].as_dict()["port"] == busy_stack.app.entry_port


def test_up_twice_starts_nothing_twice(busy_stack: RunningStack) -> None:
    before = sorted(p.pid for p in busy_stack.stack.leftover_processes())
    busy_stack.stack.up()
    after = sorted(p.pid for p in busy_stack.stack.leftover_processes())
    assert after == before


def test_load_generator_reaches_its_rate_without_failures(busy_stack: RunningStack) -> None:
    def steady() -> Any:
        stats = busy_stack.loadgen_stats()["apps"]["fraud-api"]
        assert stats["entry"]["completed"] >= 10 * RATE  # a full 10 s window measured
        return stats

    stats = eventually(steady)
    entry, preview = stats["entry"], stats["preview"]
    assert RATE * 0.8 <= entry["rate_10s"] <= RATE * 1.2, entry
    assert entry["failed"] == 0, entry["last_error"]
    assert set(entry["by_version"]) == {"v1"}
    assert preview["completed"] > 0
    assert preview["failed"] == 0
    assert {"200"} == set(entry["by_status"])


def test_extra_processes_are_managed_like_the_rest(busy_stack: RunningStack) -> None:
    stack = busy_stack.stack
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    record = stack.start_process("docs", argv, ready_url=f"http://127.0.0.1:{port}/")
    assert stack.start_process("docs", argv, port=port).pid == record.pid  # idempotent
    assert stack.status()["docs"].up
    assert any(p.component == "docs" for p in stack.leftover_processes())
    stack.stop_process("docs")
    assert "docs" not in stack.status()
    with pytest.raises(TargetError, match="reserved"):
        stack.start_process("nginx", argv)
    with pytest.raises(TargetError, match="exited during start-up"):
        stack.start_process("broken", [sys.executable, "-c", "raise SystemExit('no config')"],
                            port=free_port(), timeout=10)


def test_a_prometheus_outage_is_reported_and_up_repairs_it(busy_stack: RunningStack) -> None:
    stack = busy_stack.stack
    stack.prometheus.stop()
    status = stack.status()
    assert not status["prometheus"].up
    assert status["prometheus"].detail == "not running"
    assert status["nginx"].up  # traffic is unaffected
    stack.up()
    assert stack.status()["prometheus"].up


def test_down_leaves_no_process_and_up_restores_the_stable_version(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with running_local_stack(tmp_path_factory.mktemp("cycle"), loadgen_rate=5) as stack:
        target = stack.target
        target.ensure_instances("fraud-api", "v2", 1, {})
        assert stack.stack.down() == []  # nothing needed the final sweep
        assert stack.stack.leftover_processes() == []
        stack.stack.up()
        assert target.get_weights("fraud-api") == {"v1": 100}
        assert {i.version for i in target.instances("fraud-api")} == {"v1"}



def test_a_new_scrape_interval_is_reloaded_not_restarted(busy_stack: RunningStack) -> None:
    stack = busy_stack.stack
    before = stack.status()["prometheus"].pid
    faster = stack.settings.model_copy(update={"scrape_interval_seconds": 2.0})
    PrometheusServer(faster, stack.layout, stack.book).start()
    loaded = httpx.get(f"{busy_stack.prometheus_url}/api/v1/status/config").json()
    assert "scrape_interval: 2s" in loaded["data"]["yaml"]
    assert stack.status()["prometheus"].pid == before
    PrometheusServer(stack.settings, stack.layout, stack.book).start()  # back to 1 s
