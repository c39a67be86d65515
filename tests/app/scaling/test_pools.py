"""ConnectionPoolConfig: environment sizes, load multiplier, overflow and overrides."""

from __future__ import annotations

import pytest

from app.config import Environment, Settings
from app.scaling.pools import ConnectionPoolConfig


@pytest.mark.parametrize(
    ("environment", "size", "overflow"),
    [(Environment.DEVELOPMENT, 5, 3), (Environment.STAGING, 10, 5),
     (Environment.PRODUCTION, 20, 10)],
)
def test_environment_sizes_with_half_overflow(environment, size, overflow):
    config = ConnectionPoolConfig.for_environment(environment)
    assert (config.size, config.overflow, config.max_connections) == (size, overflow,
                                                                      size + overflow)


def test_load_multiplier_scales_and_rounds_up():
    config = ConnectionPoolConfig.for_environment(Environment.PRODUCTION, load_multiplier=1.5)
    assert (config.size, config.overflow) == (30, 15)
    small = ConnectionPoolConfig.for_environment(Environment.DEVELOPMENT, load_multiplier=0.3)
    assert (small.size, small.overflow) == (2, 1)


def test_settings_override_size_and_overflow():
    settings = Settings(environment=Environment.PRODUCTION, database_pool_size=20,
                        database_pool_overflow=10, pool_load_multiplier=3)
    assert ConnectionPoolConfig.from_settings(settings) == ConnectionPoolConfig(20, 10)
    only_size = Settings(environment=Environment.STAGING, database_pool_size=8)
    assert ConnectionPoolConfig.from_settings(only_size) == ConnectionPoolConfig(8, 4)
    zero_overflow = Settings(database_pool_overflow=0)
    assert ConnectionPoolConfig.from_settings(zero_overflow) == ConnectionPoolConfig(5, 0)


def test_httpx_limits_keep_the_base_and_burst_to_the_overflow():
    limits = ConnectionPoolConfig(10, 5).httpx_limits()
    assert (limits.max_keepalive_connections, limits.max_connections) == (10, 15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ConnectionPoolConfig(0, 1), "size"),
        (lambda: ConnectionPoolConfig(1, -1), "overflow"),
        (lambda: ConnectionPoolConfig.for_environment(Environment.STAGING, 0), "load_multiplier"),
    ],
)
def test_bad_numbers_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
