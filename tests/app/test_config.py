"""Settings added for monitoring and scaling: defaults, validation with the variable named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings


def test_defaults():
    settings = Settings()
    assert settings.prometheus_metrics_enabled is True
    assert settings.health_check_timeout_seconds == 1.0
    assert settings.pool_load_multiplier == 1.0
    assert settings.session_ttl_seconds == 24 * 3600


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("K8S_MIN_REPLICAS", "3")
    monkeypatch.setenv("K8S_MAX_REPLICAS", "10")
    monkeypatch.setenv("DATABASE_POOL_SIZE", "20")
    monkeypatch.setenv("HEALTH_CRITICAL_COMPONENTS", '["redis", "prefect"]')
    monkeypatch.setenv("VALIDATION_UNSCREENED_PATHS", '["/config"]')
    settings = Settings()
    assert settings.validation_unscreened_paths == ["/config"]
    assert (settings.k8s_min_replicas, settings.k8s_max_replicas) == (3, 10)
    assert settings.database_pool_size == 20
    assert settings.health_critical_components == ["redis", "prefect"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"k8s_min_replicas": 4, "k8s_max_replicas": 3}, "K8S_MIN_REPLICAS"),
        ({"health_critical_components": ["database"]}, "unknown health components"),
        ({"pool_load_multiplier": 0}, "pool_load_multiplier"),
        ({"k8s_target_cpu_percent": 101}, "k8s_target_cpu_percent"),
        ({"health_check_timeout_seconds": 0}, "health_check_timeout_seconds"),
        ({"validation_unscreened_paths": ["rollouts"]}, "'rollouts' is not a path"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(overrides, message):
    with pytest.raises(ValidationError, match=message):
        Settings(**overrides)
