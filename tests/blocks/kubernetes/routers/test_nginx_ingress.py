"""nginx: a canary Ingress whose canary-weight annotation carries the split."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from blocks.errors import TargetError
from blocks.kubernetes.routers.nginx_ingress import CANARY, CANARY_WEIGHT, canary_weight
from blocks.kubernetes.routers.nginx_ingress import ingress_manifest as render
from tests.blocks.kubernetes.routers._cluster import replicas, selector, with_candidate
from tests.support.k8s_target import TargetFactory, read, shop_app


def test_primary_and_canary_ingress_manifests() -> None:
    primary = render(shop_app(), "shop", "shop", None)
    canary = render(shop_app(), "shop-canary", "shop-canary", 10)
    assert "annotations" not in primary["metadata"]
    assert canary["metadata"]["annotations"] == {CANARY: "true", CANARY_WEIGHT: "10"}
    rule = canary["spec"]["rules"][0]
    assert rule["host"] == "shop.example.test"
    assert rule["http"]["paths"] == [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": "shop-canary", "port": {"name": "http"}}}}]
    assert canary["spec"]["ingressClassName"] == "nginx"
    hostless = render(shop_app(router={"path": "/api"}), "shop", "shop", None)
    assert "host" not in hostless["spec"]["rules"][0]


def ingress(annotations: dict[str, str] | None) -> dict[str, Any]:
    return {"metadata": {"annotations": annotations}}


@pytest.mark.parametrize(
    ("given", "weight"),
    [(None, 0), (ingress(None), 0), (ingress({CANARY: "true", CANARY_WEIGHT: "25"}), 25),
     (ingress({CANARY_WEIGHT: "25"}), 0), (ingress({CANARY: "true"}), 0)],
)
def test_canary_weight_read_back(given: dict[str, Any] | None, weight: int) -> None:
    assert canary_weight(given) == weight


@pytest.mark.parametrize("raw", ["ten", "101", "-1"])
def test_a_tampered_weight_is_an_error_not_a_guess(raw: str) -> None:
    with pytest.raises(TargetError, match="canary"):
        canary_weight(ingress({CANARY: "true", CANARY_WEIGHT: raw}))


@pytest.mark.k8s
def test_nginx_router_writes_the_canary_ingress_weight(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = with_candidate(make_target, "nginx")
    target.set_weights("shop", {"v1": 95, "v2": 5})
    canary = read(admin_api, "Ingress", namespace, "shop-canary")
    assert canary["metadata"]["annotations"] == {CANARY: "true", CANARY_WEIGHT: "5"}
    backend = canary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "shop-canary"
    primary = read(admin_api, "Ingress", namespace, "shop")
    assert primary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "shop"
    assert selector(admin_api, namespace, "shop-canary")["floodgate.dev/version"] == "v2"
    assert target.get_weights("shop") == {"v1": 95, "v2": 5}
    assert replicas(admin_api, namespace, "shop-v2") == 4  # pod counts are not the router's
    target.set_weights("shop", {"v2": 100})
    assert selector(admin_api, namespace, "shop")["floodgate.dev/version"] == "v2"
    canary = read(admin_api, "Ingress", namespace, "shop-canary")
    assert canary["metadata"]["annotations"][CANARY_WEIGHT] == "0"
    assert target.get_weights("shop") == {"v2": 100}
    assert target.describe("shop").entrypoint == "http://shop.example.test/"
