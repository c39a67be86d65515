"""Manifest rendering: the shapes the target applies, table-tested without a cluster."""

from __future__ import annotations

import pytest

from blocks.kubernetes.manifests import (
    NOTHING,
    deployment_env,
    deployment_manifest,
    deployment_replicas,
    deployment_version,
    selected_version,
    service_manifest,
    version_selector,
)
from tests.support.k8s_target import UNHEALTHY_ENV, shop_app
from tests.support.kwok_stages import NOT_READY_ANNOTATIONS


def test_a_version_deployment() -> None:
    manifest = deployment_manifest(shop_app(), "2.4.1", 3, {"Z": "1", "A": "2"}, "canary")
    meta, spec = manifest["metadata"], manifest["spec"]
    assert meta["name"] == "shop-2-4-1-" + meta["name"].rsplit("-", 1)[1]
    assert meta["labels"] == {
        "floodgate.dev/app": "shop", "app.kubernetes.io/name": "shop",
        "app.kubernetes.io/managed-by": "floodgate", "floodgate.dev/version": "2.4.1",
        "floodgate.dev/track": "canary",
    }
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": {"floodgate.dev/app": "shop",
                                                "floodgate.dev/version": "2.4.1"}}
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": 0}
    assert spec["progressDeadlineSeconds"] == 60
    template = spec["template"]
    assert spec["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    assert "annotations" not in template["metadata"]
    (container,) = template["spec"]["containers"]
    assert container["image"] == "registry.example/shop:2.4.1"
    assert container["env"] == [{"name": "A", "value": "2"}, {"name": "Z", "value": "1"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert "resources" not in container
    assert deployment_version(manifest) == "2.4.1"
    assert deployment_env(manifest) == {"A": "2", "Z": "1"}
    assert deployment_replicas(manifest) == 3


def test_env_switches_on_pod_annotations_and_resources_are_passed_through() -> None:
    app = shop_app(resources={"requests": {"cpu": "100m"}})
    manifest = deployment_manifest(app, "v2", 1, UNHEALTHY_ENV, "canary")
    template = manifest["spec"]["template"]
    assert template["metadata"]["annotations"] == NOT_READY_ANNOTATIONS
    assert template["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "100m"}}


@pytest.mark.parametrize(
    ("version", "selector"),
    [("v1", {"floodgate.dev/app": "shop", "floodgate.dev/version": "v1"}),
     (None, {"floodgate.dev/app": "shop"})],
)
def test_services_select_one_version_or_all(version: str | None,
                                            selector: dict[str, str]) -> None:
    service = service_manifest(shop_app(), "shop", "entry", version_selector("shop", version))
    assert service["spec"]["selector"] == selector
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http",
                                         "protocol": "TCP"}]
    assert service["metadata"]["labels"]["floodgate.dev/role"] == "entry"
    assert selected_version(service) == (True, version)


def test_reading_a_missing_service() -> None:
    assert selected_version(None) == (False, None)
    nothing = service_manifest(shop_app(), "shop-preview", "preview",
                               {"floodgate.dev/app": "shop", **NOTHING})
    assert selected_version(nothing) == (True, None)
