"""gateway-api: one HTTPRoute whose backendRefs weights carry the split."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from blocks.errors import ConfigurationError, TargetError
from blocks.kubernetes.routers.gateway_api import backend_weights, route_manifest
from tests.blocks.kubernetes.routers._cluster import with_candidate
from tests.support.k8s_target import TargetFactory, read, shop_app


def test_route_manifest() -> None:
    route = route_manifest(shop_app(router={"gateway": "edge", "gateway_namespace": "infra",
                                            "gateway_section": "https", "path": "/api"}), 30)
    assert route["spec"]["parentRefs"] == [{"name": "edge", "namespace": "infra",
                                            "sectionName": "https"}]
    assert "hostnames" not in route["spec"]
    (rule,) = route["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/api"}}]
    assert rule["backendRefs"] == [{"name": "shop", "port": 80, "weight": 70},
                                   {"name": "shop-canary", "port": 80, "weight": 30}]
    with pytest.raises(ConfigurationError, match=r"needs router\.gateway"):
        route_manifest(shop_app(router={}), 0)


def route(*refs: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"rules": [{"backendRefs": list(refs)}]}}


@pytest.mark.parametrize(
    ("given", "weights"),
    [(None, None), ({"spec": {"rules": []}}, None),
     (route({"name": "shop", "weight": 90}, {"name": "shop-canary", "weight": 10}), (90, 10)),
     (route({"name": "shop"}), (1, 0))],  # the API's default weight is 1
)
def test_backend_weights(given: dict[str, Any] | None, weights: tuple[int, int] | None) -> None:
    assert backend_weights(given, "shop", "shop-canary") == weights


def test_a_backend_floodgate_did_not_write_is_an_error() -> None:
    with pytest.raises(TargetError, match="did not put there"):
        backend_weights(route({"name": "intruder", "weight": 1}), "shop", "shop-canary")


@pytest.mark.k8s
def test_gateway_router_writes_httproute_backend_weights(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = with_candidate(make_target, "gateway-api")
    target.set_weights("shop", {"v1": 50, "v2": 50})
    stored = read(admin_api, "HTTPRoute", namespace, "shop")
    refs = stored["spec"]["rules"][0]["backendRefs"]
    assert [(r["name"], r["weight"]) for r in refs] == [("shop", 50), ("shop-canary", 50)]
    assert stored["spec"]["parentRefs"][0]["name"] == "edge"
    assert stored["spec"]["hostnames"] == ["shop.example.test"]
    assert target.get_weights("shop") == {"v1": 50, "v2": 50}
    target.set_weights("shop", {"v1": 100})
    assert target.get_weights("shop") == {"v1": 100}


@pytest.mark.k8s
def test_gateway_router_needs_a_gateway(make_target: TargetFactory) -> None:
    target = make_target(router="gateway-api")
    with pytest.raises(ConfigurationError, match=r"router\.gateway"):
        target.register_app(shop_app(router={"host": "shop.example.test"}))
    assert target.apps() == []
