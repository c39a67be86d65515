"""Each router makes a split real in the cluster objects and reads it back from them."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from blocks.errors import ConfigurationError, TargetError
from tests.blocks.kubernetes.conftest import TargetFactory
from tests.support.k8s_target import install, shop_app

pytestmark = pytest.mark.k8s


def selector(api: client.ApiClient, namespace: str, name: str) -> dict[str, str]:
    service = client.CoreV1Api(api).read_namespaced_service(name, namespace)
    return dict(service.spec.selector)


def replicas(api: client.ApiClient, namespace: str, name: str) -> int:
    return int(client.AppsV1Api(api).read_namespaced_deployment(name, namespace).spec.replicas)


def with_candidate(make_target: TargetFactory, router: str) -> Any:
    target = make_target(router=router)
    app = shop_app(replicas=4)
    install(target, app, "v1")
    target.ensure_instances("shop", "v2", 4, app.env)
    return target


def test_replica_ratio_sizes_deployments_by_replica_split(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = with_candidate(make_target, "replica-ratio")
    target.set_weights("shop", {"v1": 90, "v2": 10})
    assert (replicas(admin_api, namespace, "shop-v1"),
            replicas(admin_api, namespace, "shop-v2")) == (3, 1)
    assert selector(admin_api, namespace, "shop") == {"floodgate.dev/app": "shop"}
    assert target.get_weights("shop") == {"v1": 75, "v2": 25}  # what 3 + 1 pods serve
    target.set_weights("shop", {"v1": 50, "v2": 50})
    assert target.get_weights("shop") == {"v1": 50, "v2": 50}
    target.set_weights("shop", {"v2": 100})
    assert replicas(admin_api, namespace, "shop-v2") == 4
    assert selector(admin_api, namespace, "shop")["floodgate.dev/version"] == "v2"
    assert target.get_weights("shop") == {"v2": 100}


def test_nginx_router_writes_the_canary_ingress_weight(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = with_candidate(make_target, "nginx")
    target.set_weights("shop", {"v1": 95, "v2": 5})
    networking = client.NetworkingV1Api(admin_api)
    canary = networking.read_namespaced_ingress("shop-canary", namespace)
    assert canary.metadata.annotations == {
        "nginx.ingress.kubernetes.io/canary": "true",
        "nginx.ingress.kubernetes.io/canary-weight": "5",
    }
    assert canary.spec.rules[0].host == "shop.example.test"
    backend = canary.spec.rules[0].http.paths[0].backend.service
    assert backend.name == "shop-canary"
    primary = networking.read_namespaced_ingress("shop", namespace)
    assert primary.spec.rules[0].http.paths[0].backend.service.name == "shop"
    assert primary.spec.ingress_class_name == "nginx"
    assert selector(admin_api, namespace, "shop-canary")["floodgate.dev/version"] == "v2"
    assert target.get_weights("shop") == {"v1": 95, "v2": 5}
    assert replicas(admin_api, namespace, "shop-v2") == 4  # pod counts are not the router's
    target.set_weights("shop", {"v2": 100})
    assert selector(admin_api, namespace, "shop")["floodgate.dev/version"] == "v2"
    assert target.get_weights("shop") == {"v2": 100}
    assert target.describe("shop").entrypoint == "http://shop.example.test/"


def test_gateway_router_writes_httproute_backend_weights(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = with_candidate(make_target, "gateway-api")
    target.set_weights("shop", {"v1": 50, "v2": 50})
    route = client.CustomObjectsApi(admin_api).get_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", namespace, "httproutes", "shop"
    )
    refs = route["spec"]["rules"][0]["backendRefs"]
    assert [(r["name"], r["weight"]) for r in refs] == [("shop", 50), ("shop-canary", 50)]
    assert route["spec"]["parentRefs"][0]["name"] == "edge"
    assert route["spec"]["hostnames"] == ["shop.example.test"]
    assert target.get_weights("shop") == {"v1": 50, "v2": 50}
    target.set_weights("shop", {"v1": 100})
    assert target.get_weights("shop") == {"v1": 100}


def test_router_none_switches_but_refuses_to_split(make_target: TargetFactory) -> None:
    target = with_candidate(make_target, "none")
    with pytest.raises(TargetError, match="router 'none' cannot send 10% to v2"):
        target.set_weights("shop", {"v1": 90, "v2": 10})
    assert target.get_weights("shop") == {"v1": 100}
    target.set_weights("shop", {"v2": 100})
    assert target.get_weights("shop") == {"v2": 100}


def test_an_unknown_router_lists_the_valid_ones(make_target: TargetFactory) -> None:
    with pytest.raises(ConfigurationError,
                       match="unknown router 'istio'; valid routers: gateway-api, nginx, none, "
                             "replica-ratio"):
        make_target(router="istio")


def test_gateway_router_needs_a_gateway(make_target: TargetFactory) -> None:
    target = make_target(router="gateway-api")
    with pytest.raises(ConfigurationError, match="router.gateway"):
        target.register_app(shop_app(router={"host": "shop.example.test"}))
    assert target.apps() == []
