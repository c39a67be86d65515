"""The router port, the split it is asked for, and the Service switch every router builds on.

Traffic for app `shop` always enters through the Service `shop`, whose selector names one
version (a whole switch: blue-green, promotion, rollback) or every version (replica ratio).
Routers differ only in how they send a share to the canary: pod counts, an NGINX canary
Ingress, or HTTPRoute backend weights. As in Flagger, a router reads its weights back from the
cluster objects (`get_routes`), so every `set_routes` is safe to repeat and what the target
reports is what the cluster serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.kinds import SERVICE
from blocks.kubernetes.manifests import selected_version, service_manifest, version_selector
from blocks.kubernetes.workload import Workload

JSON = dict[str, Any]


@dataclass(frozen=True)
class Split:
    """What a router is asked for: `primary` behind the entry Service, `canary_weight`% to
    `canary` (None/0: the primary takes everything)."""

    primary: str
    canary: str | None = None
    canary_weight: int = 0


def plan_split(
    weights: Mapping[str, int], current_primary: str | None, stable: str | None
) -> Split:
    """Turn version → percent into a `Split`; the primary is whichever version the entry
    Service already serves, else the stable one, so a step never swaps the two sides.

    >>> plan_split({"v1": 90, "v2": 10}, "v1", "v1")
    Split(primary='v1', canary='v2', canary_weight=10)
    >>> plan_split({"v2": 100}, "v1", "v1")
    Split(primary='v2', canary=None, canary_weight=0)
    """
    if any(not isinstance(w, int) or not 0 <= w <= 100 for w in weights.values()):
        raise TargetError(f"weights must be integers in 0..100, got {dict(weights)}")
    if sum(weights.values()) != 100:
        raise TargetError(f"weights must sum to 100, got {dict(weights)}")
    active = {v: w for v, w in weights.items() if w > 0}
    if len(active) == 1:
        (only,) = active
        return Split(only)
    if len(active) > 2:
        raise TargetError(f"a router splits between two versions, got {sorted(active)}")
    for primary in (current_primary, stable):
        if primary in active:
            (canary,) = (v for v in active if v != primary)
            return Split(primary, canary, active[canary])
    raise TargetError(
        f"cannot split {dict(active)}: neither version is served now ({current_primary}) "
        f"or stable ({stable}), so which one is the primary is unclear"
    )


def percentages(shares: Mapping[str, float]) -> dict[str, int]:
    """Whole percents summing to 100 (largest remainder), zero shares left out.

    >>> percentages({"v1": 2, "v2": 1})
    {'v1': 67, 'v2': 33}
    """
    total = sum(s for s in shares.values() if s > 0)
    if total <= 0:
        return {}
    exact = {v: 100 * s / total for v, s in shares.items() if s > 0}
    floors = {v: int(x) for v, x in exact.items()}
    left = 100 - sum(floors.values())
    for v in sorted(exact, key=lambda v: (floors[v] - exact[v], v))[:left]:
        floors[v] += 1
    return {v: p for v, p in sorted(floors.items()) if p > 0}


def with_canary(primary: Mapping[str, int], canary: str | None, weight: int) -> dict[str, int]:
    """The primary side's weights scaled to 100 - weight, plus `weight` to `canary`.

    >>> with_canary({"v1": 100}, "v2", 10)
    {'v1': 90, 'v2': 10}
    """
    if canary is None or weight <= 0:
        return dict(primary)
    shares: dict[str, float] = {v: p * (100 - weight) / 100 for v, p in primary.items()}
    shares[canary] = shares.get(canary, 0) + weight
    return percentages(shares)


class Services:
    """The Services of an app (entry, preview, canary): apply a selector, read it back."""

    def __init__(self, api: KubeApi, workload: Workload) -> None:
        self.api = api
        self.workload = workload

    def select(self, app: KubernetesApp, name: str, role: str, version: str | None) -> None:
        """Point Service `name` at one version (None: every version of the app)."""
        self.api.apply(service_manifest(app, name, role, version_selector(app.name, version)))

    def selected(self, name: str) -> tuple[bool, str | None]:
        return selected_version(self.api.get(SERVICE, name))

    def entry_version(self, app: str) -> str | None:
        return self.selected(names.service_name(app))[1]

    def entry_weights(self, app: str) -> dict[str, int]:
        """What the entry Service serves: its version, or every version by Ready pods."""
        exists, version = self.selected(names.service_name(app))
        if not exists:
            return {}
        if version is not None:
            return {version: 100}
        ready: dict[str, float] = {}
        for instance in self.workload.instances(app):
            if instance.ready:
                ready[instance.version] = ready.get(instance.version, 0) + 1
        return percentages(ready)


class Router(Protocol):
    """How a canary gets its share of an app's traffic."""

    name: str

    def check(self, app: KubernetesApp) -> None:
        """ConfigurationError if the app definition lacks what this router needs."""
        ...

    def set_routes(self, app: KubernetesApp, split: Split) -> None: ...

    def get_routes(self, app: KubernetesApp) -> dict[str, int]:
        """version → percent, read from the cluster objects."""
        ...
