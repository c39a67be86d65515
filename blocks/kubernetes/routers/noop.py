"""`none`: no canary mechanism — only whole switches of the entry Service's selector.

The no-op router (Flagger's NopRouter) keeps the code free of `if router is None`: blue-green
and 100 % steps work through the Service switch; a split is refused with the routers that can.
"""

from __future__ import annotations

from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.routers.base import Services, Split


class NoopRouter:
    name = "none"

    def __init__(self, services: Services) -> None:
        self._services = services

    def check(self, app: KubernetesApp) -> None:
        return None

    def set_routes(self, app: KubernetesApp, split: Split) -> None:
        if split.canary is not None and split.canary_weight > 0:
            raise TargetError(
                f"router 'none' cannot send {split.canary_weight}% to {split.canary}: it only "
                "switches whole versions; configure replica-ratio, nginx or gateway-api"
            )
        self._services.select(app, names.service_name(app.name), "entry", split.primary)

    def get_routes(self, app: KubernetesApp) -> dict[str, int]:
        return self._services.entry_weights(app.name)
