"""`scaling_manifests()`: the Service, HPA and PDB of one app, from settings, in apply order.

The Kubernetes target applies these next to its Deployment; `to_yaml(*scaling_manifests(...))`
is the same set as a file for review or `kubectl apply -f -`.
"""

from __future__ import annotations

from typing import Any

from app.config import Settings
from app.scaling.autoscaling import AutoScalingPolicy
from app.scaling.load_balancing import LoadBalancingConfig


def scaling_manifests(
    settings: Settings,
    name: str,
    selector: dict[str, str],
    namespace: str = "default",
    *,
    port: int = 80,
    target_port: int = 8000,
) -> list[dict[str, Any]]:
    """Service (ClientIP affinity), HorizontalPodAutoscaler and PodDisruptionBudget for `name`."""
    policy = AutoScalingPolicy.from_settings(settings)
    service = LoadBalancingConfig(name, port=port, target_port=target_port)
    return [
        service.service_manifest(selector, namespace=namespace),
        policy.hpa_manifest(name, namespace=namespace),
        policy.pdb_manifest(name, selector, namespace=namespace),
    ]
