"""`AutoScalingPolicy`: the HorizontalPodAutoscaler (autoscaling/v2) and PodDisruptionBudget
(policy/v1) of one Deployment, as plain dicts the Kubernetes target applies.

Environment defaults (seed): staging 2-5 replicas at 70 % CPU; production 3-10 at 60 % CPU and
75 % memory. Development (ours): 1-2 at 80 % CPU. Scale-up is stabilised over 30 s (staging) /
60 s (production) so a single spike does not add pods; scale-down over 5 min / 10 min so a lull
does not remove pods the next spike needs. The PDB keeps at least 1 pod through voluntary
disruptions (node drains). K8S_MIN_REPLICAS, K8S_MAX_REPLICAS, K8S_TARGET_CPU_PERCENT and
K8S_TARGET_MEMORY_PERCENT override the defaults; min > max is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.config import Environment, Settings
from app.scaling.manifests import dns_label


@dataclass(frozen=True)
class AutoScalingPolicy:
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int
    target_memory_percent: int | None = None
    scale_up_window_seconds: int = 60
    scale_down_window_seconds: int = 300
    pdb_min_available: int = 1

    def __post_init__(self) -> None:
        if self.min_replicas < 1:
            raise ValueError(f"min_replicas must be >= 1, got {self.min_replicas}")
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) must not exceed "
                f"max_replicas ({self.max_replicas})"
            )
        for name in ("target_cpu_percent", "target_memory_percent"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 100:
                raise ValueError(f"{name} must be within 1..100, got {value}")
        if not 0 <= self.scale_up_window_seconds <= 3600:
            raise ValueError("scale_up_window_seconds must be within 0..3600 (HPA limit)")
        if not 0 <= self.scale_down_window_seconds <= 3600:
            raise ValueError("scale_down_window_seconds must be within 0..3600 (HPA limit)")
        if not 0 <= self.pdb_min_available <= self.max_replicas:
            raise ValueError(
                f"pdb_min_available must be within 0..max_replicas, got {self.pdb_min_available}"
            )

    @classmethod
    def for_environment(cls, environment: Environment) -> AutoScalingPolicy:
        return _DEFAULTS[environment]

    @classmethod
    def from_settings(cls, settings: Settings) -> AutoScalingPolicy:
        """The environment's defaults with any K8S_* overrides applied (and re-validated)."""
        overrides: dict[str, int] = {}
        for field, value in (
            ("min_replicas", settings.k8s_min_replicas),
            ("max_replicas", settings.k8s_max_replicas),
            ("target_cpu_percent", settings.k8s_target_cpu_percent),
            ("target_memory_percent", settings.k8s_target_memory_percent),
        ):
            if value is not None:
                overrides[field] = value
        return replace(cls.for_environment(settings.environment), **overrides)

    def hpa_manifest(self, deployment: str, namespace: str = "default") -> dict[str, Any]:
        dns_label("deployment", deployment)
        dns_label("namespace", namespace)
        metrics = [_utilization("cpu", self.target_cpu_percent)]
        if self.target_memory_percent is not None:
            metrics.append(_utilization("memory", self.target_memory_percent))
        return {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": deployment, "namespace": namespace,
                         "labels": {"app.kubernetes.io/name": deployment}},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": deployment},
                "minReplicas": self.min_replicas,
                "maxReplicas": self.max_replicas,
                "metrics": metrics,
                "behavior": {
                    "scaleUp": {
                        "stabilizationWindowSeconds": self.scale_up_window_seconds,
                        # at most double, or add 4 pods, per 15 s, whichever is more
                        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15},
                                     {"type": "Pods", "value": 4, "periodSeconds": 15}],
                        "selectPolicy": "Max",
                    },
                    "scaleDown": {
                        "stabilizationWindowSeconds": self.scale_down_window_seconds,
                        # shed at most a quarter of the pods a minute
                        "policies": [{"type": "Percent", "value": 25, "periodSeconds": 60}],
                        "selectPolicy": "Min",
                    },
                },
            },
        }

    def pdb_manifest(
        self, deployment: str, selector: dict[str, str], namespace: str = "default"
    ) -> dict[str, Any]:
        dns_label("deployment", deployment)
        dns_label("namespace", namespace)
        if not selector:
            raise ValueError("a PodDisruptionBudget needs a non-empty pod selector")
        return {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": deployment, "namespace": namespace,
                         "labels": {"app.kubernetes.io/name": deployment}},
            "spec": {
                "minAvailable": self.pdb_min_available,
                "selector": {"matchLabels": dict(selector)},
            },
        }


def _utilization(resource: str, percent: int) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {"name": resource,
                     "target": {"type": "Utilization", "averageUtilization": percent}},
    }


_DEFAULTS: dict[Environment, AutoScalingPolicy] = {
    Environment.DEVELOPMENT: AutoScalingPolicy(
        min_replicas=1, max_replicas=2, target_cpu_percent=80,
        scale_up_window_seconds=30, scale_down_window_seconds=300,
    ),
    Environment.STAGING: AutoScalingPolicy(
        min_replicas=2, max_replicas=5, target_cpu_percent=70,
        scale_up_window_seconds=30, scale_down_window_seconds=300,
    ),
    Environment.PRODUCTION: AutoScalingPolicy(
        min_replicas=3, max_replicas=10, target_cpu_percent=60, target_memory_percent=75,
        scale_up_window_seconds=60, scale_down_window_seconds=600,
    ),
}
