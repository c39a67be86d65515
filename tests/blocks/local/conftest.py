"""Fixtures for the local target: a real stack per test module, reset between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import RunningStack, reset, running_local_stack


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """nginx (Lua router), Prometheus (1 s scrapes), fraud-api v1 x2, load generator off."""
    with running_local_stack(tmp_path_factory.mktemp("local-stack"),
                             loadgen_enabled=False) as stack:
        yield stack


@pytest.fixture
def stack(local_stack: RunningStack) -> Iterator[RunningStack]:
    """The module's stack, back at its baseline after the test."""
    yield local_stack
    reset(local_stack)
