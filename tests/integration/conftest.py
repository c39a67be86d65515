"""A real local stack (nginx, Prometheus, fraud-api, load generator) and a real Prefect server,
driven through the `deploy` flow and the `floodgate` command."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from blocks.prometheus import PrometheusMetricsSource
from flows.reconcile import Deps
from flows.runner import current, drive
from tests.support.local_stack import APP, RunningStack, reset, running_local_stack
from tests.support.prefect_server import PrefectServer

# Enough traffic that a 10 % canary gets a few requests a second and the blue-green preview
# (10 % extra) too; analysis windows stay short so a rollout takes seconds, not minutes.
LOAD_RATE = 60


@pytest.fixture(scope="module")
def rollout_stack(
    tmp_path_factory: pytest.TempPathFactory, prefect_server: PrefectServer
) -> Iterator[RunningStack]:
    with running_local_stack(
        tmp_path_factory.mktemp("rollouts"), loadgen_rate=LOAD_RATE
    ) as stack:
        yield stack


@pytest.fixture
def stack(rollout_stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningStack]:
    """The module's stack as the `local` target of this process, reset after each test."""
    monkeypatch.setenv("FLOODGATE_HOME", str(rollout_stack.settings.state_dir))
    yield rollout_stack
    finish_leftover_rollout(rollout_stack)
    reset(rollout_stack)


def finish_leftover_rollout(stack: RunningStack) -> None:
    """A test that failed mid-rollout must not leave the next test an unfinished rollout:
    roll it back, as `floodgate abort` would (its driving process is gone by now)."""
    rollout = current(stack.target, APP)
    if rollout is None or rollout.terminal:
        return
    stack.target.post_command(APP, "abort")
    metrics = PrometheusMetricsSource(stack.prometheus_url)
    drive(rollout, Deps(stack.target, metrics), sleep=time.sleep)
