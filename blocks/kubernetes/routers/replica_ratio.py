"""`replica-ratio`: traffic follows pod counts, as with a plain Service over two Deployments.

For a split the entry Service selects every version of the app and the two Deployments are
sized by `replica_split(app.replicas, weight)`; the canary is resized first and the primary
last, so serving capacity never drops below the app's replica count. A whole switch first makes
sure the chosen version has the full count, then narrows the selector to it.
Weights read back are the shares of Ready pods behind the entry Service — coarse by nature
(5 % of 4 replicas is 1 pod, 25 %), which is what the cluster really serves.
"""

from __future__ import annotations

from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.manifests import deployment_replicas
from blocks.kubernetes.replica_split import replica_split
from blocks.kubernetes.routers.base import Services, Split


class ReplicaRatioRouter:
    name = "replica-ratio"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._workload = services.workload

    def check(self, app: KubernetesApp) -> None:
        return None

    def set_routes(self, app: KubernetesApp, split: Split) -> None:
        entry = names.service_name(app.name)
        deployments = self._workload.deployments(app.name)
        total = app.replicas
        if split.canary is None or split.canary_weight == 0:
            current = deployments.get(split.primary)
            if current is not None and deployment_replicas(current) < total:
                self._workload.scale(app.name, split.primary, total)
            self._services.select(app, entry, "entry", split.primary)
            return
        others = sorted(
            v for v, d in deployments.items()
            if v not in (split.primary, split.canary) and deployment_replicas(d) > 0
        )
        if others:
            raise TargetError(
                f"replica-ratio cannot split {split.primary}/{split.canary} while "
                f"{', '.join(others)} also runs: the entry Service would serve it too"
            )
        primary_count, canary_count = replica_split(total, split.canary_weight)
        self._workload.scale(app.name, split.canary, canary_count)
        self._services.select(app, entry, "entry", None)
        self._workload.scale(app.name, split.primary, primary_count)

    def get_routes(self, app: KubernetesApp) -> dict[str, int]:
        return self._services.entry_weights(app.name)
