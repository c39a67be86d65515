"""AutoScalingPolicy: environment defaults, overrides, and schema-valid HPA/PDB manifests."""

from __future__ import annotations

import pytest
import yaml

from app.config import Environment, Settings
from app.scaling.autoscaling import AutoScalingPolicy
from app.scaling.manifests import to_yaml
from tests.support.k8s_schema import assert_valid_manifest


def resource_targets(hpa: dict) -> dict[str, int]:
    return {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
            for m in hpa["spec"]["metrics"]}


def test_staging_defaults():
    hpa = AutoScalingPolicy.for_environment(Environment.STAGING).hpa_manifest("fraud-api")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert resource_targets(hpa) == {"cpu": 70}
    assert hpa["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 30
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_production_defaults():
    hpa = AutoScalingPolicy.for_environment(Environment.PRODUCTION).hpa_manifest("fraud-api")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert resource_targets(hpa) == {"cpu": 60, "memory": 75}
    assert hpa["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 60
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600


@pytest.mark.parametrize("environment", list(Environment))
def test_every_environment_renders_valid_manifests(environment):
    policy = AutoScalingPolicy.for_environment(environment)
    assert 30 <= policy.scale_up_window_seconds <= 60
    assert 300 <= policy.scale_down_window_seconds <= 600
    hpa = policy.hpa_manifest("fraud-api", namespace="payments")
    pdb = policy.pdb_manifest("fraud-api", {"app": "fraud-api"}, namespace="payments")
    assert_valid_manifest(hpa)
    assert_valid_manifest(pdb)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "fraud-api"}
    assert pdb["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {"app": "fraud-api"}}}


def test_settings_override_the_environment():
    settings = Settings(environment=Environment.PRODUCTION, k8s_min_replicas=4,
                        k8s_max_replicas=12, k8s_target_cpu_percent=50,
                        k8s_target_memory_percent=80)
    hpa = AutoScalingPolicy.from_settings(settings).hpa_manifest("fraud-api")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (4, 12)
    assert resource_targets(hpa) == {"cpu": 50, "memory": 80}
    assert_valid_manifest(hpa)


def test_memory_target_can_be_added_to_staging():
    settings = Settings(environment=Environment.STAGING, k8s_target_memory_percent=85)
    hpa = AutoScalingPolicy.from_settings(settings).hpa_manifest("fraud-api")
    assert resource_targets(hpa) == {"cpu": 70, "memory": 85}


def test_min_above_max_is_refused_with_both_numbers():
    # only the minimum overridden: above production's default maximum of 10
    settings = Settings(environment=Environment.PRODUCTION, k8s_min_replicas=12)
    expected = r"min_replicas \(12\) must not exceed max_replicas \(10\)"
    with pytest.raises(ValueError, match=expected):
        AutoScalingPolicy.from_settings(settings)
    with pytest.raises(ValueError, match=r"K8S_MIN_REPLICAS \(6\).*K8S_MAX_REPLICAS \(5\)"):
        Settings(k8s_min_replicas=6, k8s_max_replicas=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_replicas": 0, "max_replicas": 2, "target_cpu_percent": 50}, "min_replicas"),
        ({"min_replicas": 1, "max_replicas": 2, "target_cpu_percent": 0}, "target_cpu_percent"),
        ({"min_replicas": 1, "max_replicas": 2, "target_cpu_percent": 50,
          "scale_down_window_seconds": 4000}, "scale_down_window_seconds"),
        ({"min_replicas": 1, "max_replicas": 2, "target_cpu_percent": 50,
          "pdb_min_available": 3}, "pdb_min_available"),
    ],
)
def test_invalid_policies_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AutoScalingPolicy(**kwargs)


def test_names_must_be_dns_labels():
    policy = AutoScalingPolicy.for_environment(Environment.STAGING)
    with pytest.raises(ValueError, match="deployment must be a DNS label"):
        policy.hpa_manifest("Fraud_API")
    with pytest.raises(ValueError, match="namespace"):
        policy.pdb_manifest("fraud-api", {"app": "x"}, namespace="bad.ns")
    with pytest.raises(ValueError, match="selector"):
        policy.pdb_manifest("fraud-api", {})


def test_yaml_renderer_round_trips_both_documents():
    policy = AutoScalingPolicy.for_environment(Environment.PRODUCTION)
    hpa = policy.hpa_manifest("fraud-api")
    pdb = policy.pdb_manifest("fraud-api", {"app": "fraud-api"})
    assert list(yaml.safe_load_all(to_yaml(hpa, pdb))) == [hpa, pdb]
