"""`gateway-api`: one HTTPRoute whose two backendRefs carry the weights.

HTTPRoute `shop` attaches to the configured Gateway and sends `100 - w` to Service `shop`
(the primary) and `w` to Service `shop-canary`. The same ordering as the NGINX router keeps
every step safe; weights are read back from the route's backendRefs and the Services.
"""

from __future__ import annotations

from typing import Any

from blocks.errors import ConfigurationError, TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.kinds import HTTP_ROUTE
from blocks.kubernetes.routers.base import Services, Split, with_canary

JSON = dict[str, Any]


def route_manifest(app: KubernetesApp, canary_weight: int) -> JSON:
    settings = app.router
    if settings.gateway is None:
        raise ConfigurationError(
            f"app {app.name}: the gateway-api router needs router.gateway (the Gateway's name)"
        )
    parent: JSON = {"name": settings.gateway}
    if settings.gateway_namespace:
        parent["namespace"] = settings.gateway_namespace
    if settings.gateway_section:
        parent["sectionName"] = settings.gateway_section
    spec: JSON = {
        "parentRefs": [parent],
        "rules": [{
            "matches": [{"path": {"type": "PathPrefix", "value": settings.path}}],
            "backendRefs": [
                {"name": names.service_name(app.name), "port": app.service_port,
                 "weight": 100 - canary_weight},
                {"name": names.canary_service_name(app.name), "port": app.service_port,
                 "weight": canary_weight},
            ],
        }],
    }
    if settings.host:
        spec["hostnames"] = [settings.host]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": names.route_name(app.name), "labels": names.app_labels(app.name)},
        "spec": spec,
    }


def backend_weights(route: JSON | None, entry: str, canary: str) -> tuple[int, int] | None:
    """(entry weight, canary weight) of the route's first rule; None without a route."""
    if route is None:
        return None
    rules = route.get("spec", {}).get("rules") or []
    if not rules:
        return None
    weights = {entry: 0, canary: 0}
    for ref in rules[0].get("backendRefs") or []:
        if ref.get("name") not in weights:
            raise TargetError(f"HTTPRoute has a backend Floodgate did not put there: {ref}")
        weights[ref["name"]] += int(ref.get("weight", 1))
    return weights[entry], weights[canary]


class GatewayApiRouter:
    name = "gateway-api"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._api: KubeApi = services.api

    def check(self, app: KubernetesApp) -> None:
        route_manifest(app, 0)

    def set_routes(self, app: KubernetesApp, split: Split) -> None:
        manifest = route_manifest(app, split.canary_weight)  # refuses before any change
        entry, canary = names.service_name(app.name), names.canary_service_name(app.name)
        if split.canary is not None:
            self._services.select(app, canary, "canary", split.canary)
        self._services.select(app, entry, "entry", split.primary)
        self._api.apply(manifest)
        if split.canary is None:
            self._services.select(app, canary, "canary", split.primary)

    def get_routes(self, app: KubernetesApp) -> dict[str, int]:
        primary = self._services.entry_weights(app.name)
        entry, canary = names.service_name(app.name), names.canary_service_name(app.name)
        found = backend_weights(self._api.get(HTTP_ROUTE, names.route_name(app.name)), entry,
                                canary)
        if found is None or sum(found) == 0:
            return primary
        entry_weight, canary_weight = found
        _, canary_version = self._services.selected(canary)
        return with_canary(primary, canary_version,
                           round(100 * canary_weight / (entry_weight + canary_weight)))
