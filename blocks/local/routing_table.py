"""What nginx should serve, as plain data: per app, versions → instance ports, weights, preview.

`RoutingTable` is built from the state directory (routing asked for + live instance records) and
rendered into nginx.conf by `nginx_config.render_config`. It is also what nginx reports back on
its admin port (`state_json`), which is how `get_weights` reads what is *served*, not what was
asked: the JSON is part of the loaded config (or of nginx's shared memory with the Lua router).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field


class RoutingState(BaseModel):
    """Routing last asked for an app (stored in `routing.json`, rendered into the config)."""

    weights: dict[str, int] = Field(default_factory=dict)
    preview: str | None = None
    stable: str | None = None


def nginx_name(text: str) -> str:
    """An app or version as part of an nginx variable name (`fraud-api` → `fraud_api`)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def upstream_name(app: str, version: str) -> str:
    return f"fg_{app}__{version}"


@dataclass(frozen=True)
class AppRoutes:
    app: str
    entry_port: int
    preview_port: int
    upstreams: Mapping[str, tuple[int, ...]]  # version -> instance ports (non-stopping)
    weights: Mapping[str, int]  # as asked; `served_weights` drops versions without instances
    preview: str | None = None
    stable: str | None = None

    @property
    def pool_variable(self) -> str:
        return f"$fg_{nginx_name(self.app)}_pool"

    def served_weights(self) -> dict[str, int]:
        """Positive weights of versions nginx has an upstream for; they sum to 100 (or {}).

        A weighted version without instances cannot happen through `LocalTarget` (it refuses);
        if the state says so anyway, its share goes to the largest routed version instead of
        rendering a config nginx would refuse.
        """
        routed = {v: w for v, w in self.weights.items() if v in self.upstreams and w > 0}
        if not routed:
            return {}
        missing = 100 - sum(routed.values())
        if missing:
            largest = max(routed, key=lambda v: (routed[v], v == self.stable))
            routed[largest] += missing
        return routed

    def preview_target(self) -> str | None:
        """The version the preview port reaches: the preview set, else stable, else the
        version with the most traffic."""
        for candidate in (self.preview, self.stable):
            if candidate is not None and candidate in self.upstreams:
                return candidate
        served = {v: w for v, w in self.served_weights().items() if w > 0}
        return max(served, key=lambda v: served[v]) if served else None

    def static_state(self) -> dict[str, Any]:
        """Everything about the app the admin endpoint reports, except weights."""
        return {
            "entry_port": self.entry_port,
            "preview_port": self.preview_port,
            "preview": self.preview_target(),
            "stable": self.stable,
            "upstreams": {
                v: [f"127.0.0.1:{p}" for p in ports] for v, ports in sorted(self.upstreams.items())
            },
        }


@dataclass(frozen=True)
class RoutingTable:
    generation: int
    admin_port: int
    apps: tuple[AppRoutes, ...] = field(default_factory=tuple)

    def route(self, app: str) -> AppRoutes | None:
        return next((r for r in self.apps if r.app == app), None)

    def state_json(self, router: str) -> dict[str, Any]:
        """The admin endpoint's answer when weights come from the config itself."""
        return {
            "router": router,
            "generation": self.generation,
            "config_generation": self.generation,
            "apps": {
                route.app: {
                    "generation": self.generation,
                    "weights": route.served_weights(),
                    **route.static_state(),
                }
                for route in self.apps
            },
        }
