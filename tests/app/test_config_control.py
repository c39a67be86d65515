"""Settings of the control API (app.control): names, defaults and refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings


def test_defaults_refuse_rather_than_run_open():
    settings = Settings()
    assert settings.control_target == "local"
    assert settings.control_api_tokens == []
    assert settings.control_webhook_secrets == []
    assert settings.control_webhook_tolerance_seconds == 300
    assert (settings.control_deploy_deployment, settings.control_rollback_deployment,
            settings.control_progress_deployment) == (
        "deploy/rollout", "rollback/restore", "progress/every-minute")


def test_environment_names(monkeypatch, tmp_path):
    monkeypatch.setenv("CONTROL_API_TOKENS", '["token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"]')
    monkeypatch.setenv("CONTROL_WEBHOOK_SECRETS", '["secret-cccccccccccccccc"]')
    monkeypatch.setenv("FLOODGATE_TARGET", "floodgate-kubernetes-target/prod")
    monkeypatch.setenv("FLOODGATE_HOME", str(tmp_path))
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_key")
    settings = Settings()
    assert [t.get_secret_value() for t in settings.control_api_tokens] == [
        "token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"]
    assert "token-aaaa" not in repr(settings)  # secrets never show in logs
    assert settings.control_target == "floodgate-kubernetes-target/prod"
    assert settings.floodgate_home == tmp_path
    monkeypatch.setenv("CONTROL_TARGET", "local")
    assert Settings().control_target == "local"  # the specific name wins over the shared one


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"control_api_tokens": ["short"]}, "shorter than 16"),
        ({"control_webhook_secrets": ["0123456789abcdef", "tiny"]}, "entry 1 is shorter"),
        ({"control_deploy_deployment": "rollout"}, "control_deploy_deployment"),
        ({"control_webhook_tolerance_seconds": 0}, "control_webhook_tolerance_seconds"),
        ({"control_prefect_timeout_seconds": 120}, "control_prefect_timeout_seconds"),
        ({"control_target": ""}, "control_target"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(overrides, message):
    with pytest.raises(ValidationError, match=message):
        Settings(**overrides)
