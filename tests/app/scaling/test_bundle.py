"""scaling_manifests(): one schema-valid set per environment, overrides applied."""

from __future__ import annotations

import pytest
import yaml

from app.config import Environment, Settings
from app.scaling.bundle import scaling_manifests
from app.scaling.manifests import to_yaml
from tests.support.k8s_schema import assert_valid_manifest


@pytest.mark.parametrize("environment", list(Environment))
def test_every_manifest_is_schema_valid(environment):
    manifests = scaling_manifests(Settings(environment=environment), "fraud-api",
                                  {"app": "fraud-api"}, namespace="payments")
    assert [m["kind"] for m in manifests] == ["Service", "HorizontalPodAutoscaler",
                                              "PodDisruptionBudget"]
    for manifest in manifests:
        assert_valid_manifest(manifest)
        assert manifest["metadata"]["namespace"] == "payments"


def test_overrides_reach_the_hpa_and_yaml_round_trips():
    settings = Settings(environment=Environment.PRODUCTION, k8s_max_replicas=20)
    manifests = scaling_manifests(settings, "fraud-api", {"app": "fraud-api"})
    assert manifests[1]["spec"]["maxReplicas"] == 20
    assert list(yaml.safe_load_all(to_yaml(*manifests))) == manifests


def test_schema_check_can_fail():
    """The validator is not vacuous: an unknown field in a spec is refused."""
    service = scaling_manifests(Settings(), "fraud-api", {"app": "fraud-api"})[0]
    service["spec"]["sessionAffinityTimeout"] = 3
    with pytest.raises(AssertionError, match="sessionAffinityTimeout"):
        assert_valid_manifest(service)
