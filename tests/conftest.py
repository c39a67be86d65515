"""Fixtures shared by the whole suite: real services started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import RedisServer, running_redis


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put every k8s test in one xdist group: with `--dist loadgroup` (scripts/test.sh) they run
    on one worker and share one control plane instead of starting one per worker."""
    for item in items:
        if item.get_closest_marker("k8s") is not None:
            item.add_marker(pytest.mark.xdist_group("k8s"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server per test session (per xdist worker)."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server
