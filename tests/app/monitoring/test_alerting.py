"""Alert rules: valid for promtool, and each alert fires on bad data and stays quiet on good."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.monitoring.alerting import AlertingRules, AlertThresholds, alert_rules_yaml

UNIT_TESTS = Path(__file__).with_name("alert_rules_test.yml")
PROMTOOL = shutil.which("promtool")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "promtool is not installed; run scripts/setup.sh"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


def write_rules(tmp_path: Path, text: str) -> Path:
    (tmp_path / "rules.yml").write_text(text)
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    return tmp_path


def test_promtool_check_rules_passes(tmp_path):
    directory = write_rules(tmp_path, alert_rules_yaml())
    result = promtool("check", "rules", "rules.yml", cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_promtool_unit_tests_pass(tmp_path):
    directory = write_rules(tmp_path, alert_rules_yaml())
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("thresholds", "alert"),
    [
        (AlertThresholds(error_rate=0.2), "FloodgateHighErrorRate"),
        (AlertThresholds(p95_latency_seconds=2.0), "FloodgateHighLatencyP95"),
        (AlertThresholds(pool_usage=0.96), "FloodgateConnectionPoolExhaustion"),
        (AlertThresholds(cache_hit_rate=0.4), "FloodgateLowCacheHitRate"),
        (AlertThresholds(unhandled_exceptions_per_5m=20), "FloodgateUnhandledExceptions"),
        (AlertThresholds(slow_query_seconds=5.0), "FloodgateSlowQueries"),
    ],
)
def test_unit_tests_notice_a_changed_threshold(tmp_path, thresholds, alert):
    """The unit tests are not vacuous: loosen one threshold and its firing case fails."""
    directory = write_rules(tmp_path, alert_rules_yaml(thresholds))
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=directory)
    assert result.returncode != 0
    assert alert in result.stdout + result.stderr


def test_every_alert_is_grouped_by_app_and_version():
    for rule in AlertingRules().rules():
        assert "by (app, version" in rule["expr"], rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}


def test_yaml_round_trips_to_the_rule_groups():
    rules = AlertingRules()
    assert yaml.safe_load(rules.to_yaml()) == rules.rule_groups()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"error_rate": 0}, "error_rate"),
        ({"cache_hit_rate": 1.5}, "cache_hit_rate"),
        ({"p95_latency_seconds": 0}, "p95_latency_seconds"),
        ({"slow_query_seconds": 3.0}, "bucket"),
    ],
)
def test_bad_thresholds_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AlertThresholds(**kwargs)


@pytest.mark.integration
def test_a_real_prometheus_loads_every_rule(tmp_path):
    import httpx

    from tests.support.prometheus import running_prometheus

    rules = tmp_path / "floodgate-rules.yml"
    rules.write_text(alert_rules_yaml())
    with running_prometheus(tmp_path / "prom", rule_files=[rules]) as prometheus:
        groups = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    loaded = {rule["name"]: rule["health"] for group in groups for rule in group["rules"]}
    assert set(loaded) == {rule["alert"] for rule in AlertingRules().rules()}
    assert set(loaded.values()) <= {"ok", "unknown"}
