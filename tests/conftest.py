"""Fixtures shared by the whole suite: real services started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import RedisServer, running_redis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server per test session (per xdist worker)."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server
