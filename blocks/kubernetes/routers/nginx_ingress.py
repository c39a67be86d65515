"""`nginx`: ingress-nginx canary annotations.

Two Ingresses for the same host and path: `shop` → Service `shop` (the primary) and
`shop-canary` → Service `shop-canary`, annotated `nginx.ingress.kubernetes.io/canary: "true"`
and `canary-weight: "<percent>"`; ingress-nginx sends that share to the canary backend. The
canary Service is pointed at the canary version before the weight rises, and the entry Service
is switched before the weight drops back to 0, so no step routes to a version that is not meant
to serve. Weights are read back from the canary Ingress annotation and the two Services.
"""

from __future__ import annotations

from typing import Any

from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.kinds import INGRESS
from blocks.kubernetes.routers.base import Services, Split, with_canary

JSON = dict[str, Any]
CANARY = "nginx.ingress.kubernetes.io/canary"
CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"


def ingress_manifest(app: KubernetesApp, name: str, service: str, weight: int | None) -> JSON:
    """The primary Ingress (weight None) or the canary Ingress with its weight annotation."""
    rule: JSON = {"http": {"paths": [{
        "path": app.router.path,
        "pathType": "Prefix",
        "backend": {"service": {"name": service, "port": {"name": "http"}}},
    }]}}
    if app.router.host:
        rule["host"] = app.router.host
    metadata: JSON = {"name": name, "labels": names.app_labels(app.name)}
    if weight is not None:
        metadata["annotations"] = {CANARY: "true", CANARY_WEIGHT: str(weight)}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {"ingressClassName": app.router.ingress_class, "rules": [rule]},
    }


def canary_weight(ingress: JSON | None) -> int:
    """The weight a canary Ingress carries (0 if absent or not a canary)."""
    if ingress is None:
        return 0
    annotations = ingress.get("metadata", {}).get("annotations") or {}
    if annotations.get(CANARY) != "true":
        return 0
    raw = annotations.get(CANARY_WEIGHT, "0")
    try:
        weight = int(raw)
    except ValueError:
        raise TargetError(f"canary Ingress has a non-numeric {CANARY_WEIGHT}: {raw!r}") from None
    if not 0 <= weight <= 100:
        raise TargetError(f"canary Ingress weight {weight} is outside 0..100")
    return weight


class NginxIngressRouter:
    name = "nginx"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._api: KubeApi = services.api

    def check(self, app: KubernetesApp) -> None:
        return None

    def set_routes(self, app: KubernetesApp, split: Split) -> None:
        entry, canary = names.service_name(app.name), names.canary_service_name(app.name)
        if split.canary is not None:
            self._services.select(app, canary, "canary", split.canary)
        self._services.select(app, entry, "entry", split.primary)
        self._api.apply(ingress_manifest(app, names.ingress_name(app.name), entry, None))
        self._api.apply(ingress_manifest(
            app, names.canary_ingress_name(app.name), canary, split.canary_weight
        ))
        if split.canary is None:
            self._services.select(app, canary, "canary", split.primary)

    def get_routes(self, app: KubernetesApp) -> dict[str, int]:
        primary = self._services.entry_weights(app.name)
        weight = canary_weight(self._api.get(INGRESS, names.canary_ingress_name(app.name)))
        _, canary = self._services.selected(names.canary_service_name(app.name))
        return with_canary(primary, canary, weight)
