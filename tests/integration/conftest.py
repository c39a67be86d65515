"""A real local stack (nginx, Prometheus, fraud-api, load generator) and a real Prefect server,
driven through the `deploy` flow and the `floodgate` command."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import RunningStack, reset, running_local_stack
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
    reset(rollout_stack)
