"""Names and labels: versions as label values, Deployment names that never collide."""

from __future__ import annotations

import pytest

from blocks.errors import TargetError
from blocks.kubernetes import names


@pytest.mark.parametrize(
    ("version", "slug"),
    [("v2", "v2"), ("2-4-1", "2-4-1"), ("1.2.0", "1-2-0-9f7703"), ("V2", "v2-47cfe5")],
)
def test_dns_slug(version: str, slug: str) -> None:
    assert names.dns_slug(version) == slug


def test_versions_that_look_alike_get_different_deployments() -> None:
    assert names.deployment_name("shop", "1.0") != names.deployment_name("shop", "1-0")
    assert names.deployment_name("shop", "v1") != names.deployment_name("shop", "V1")


@pytest.mark.parametrize("version", ["v2", "2.4.1", "rc_1", "a" * 63])
def test_valid_versions_are_their_own_label(version: str) -> None:
    assert names.version_label(version) == version


@pytest.mark.parametrize("version", ["v2-", "v2.", "a" * 64, "", "-v2"])
def test_versions_kubernetes_cannot_label_are_refused(version: str) -> None:
    with pytest.raises(TargetError, match="cannot be a Kubernetes label value"):
        names.version_label(version)


def test_ids_that_cannot_be_part_of_a_name_are_refused() -> None:
    assert names.snapshot_config_map("shop", "ab12") == "floodgate-snapshot-shop-ab12"
    with pytest.raises(TargetError, match="cannot be part of a Kubernetes object name"):
        names.snapshot_config_map("shop", "///")
