"""HPA and PDB of an app, rendered by `app.scaling.AutoScalingPolicy`, aimed at the stable version.

Decision: one HorizontalPodAutoscaler and one PodDisruptionBudget per app (both named after the
app), targeting the *stable* Deployment only; `mark_stable` moves them to the new version.

* The candidate's size is Floodgate's plan (`replica_split`, rolling batches). An HPA on it would
  fight that plan — the HPA controller raises a Deployment to `minReplicas` even when it has no
  metrics — and skew the traffic the replica-ratio router derives from pod counts.
* A PDB with `minAvailable: 1` on a one-pod canary would block node drains for the whole rollout.
* Between rollouts the stable Deployment is the app, so that is what autoscaling should follow.

`AutoScaling` holds the policy's fields in the app definition (YAML in the app's ConfigMap); the
rules (min ≤ max, percent ranges, HPA window limits) are `AutoScalingPolicy`'s own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

JSON = dict[str, Any]


class AutoScaling(BaseModel):
    """The fields of `app.scaling.AutoScalingPolicy`, as stored in an app definition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    target_cpu_percent: int = Field(ge=1, le=100)
    target_memory_percent: int | None = Field(None, ge=1, le=100)
    scale_up_window_seconds: int = Field(60, ge=0, le=3600)
    scale_down_window_seconds: int = Field(300, ge=0, le=3600)
    pdb_min_available: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _policy_rules(self) -> AutoScaling:
        self.policy()  # AutoScalingPolicy raises ValueError naming the broken rule
        return self

    def policy(self) -> Any:
        from app.scaling import AutoScalingPolicy

        return AutoScalingPolicy(**self.model_dump())


def hpa_manifest(
    scaling: AutoScaling, name: str, deployment: str, namespace: str, labels: dict[str, str]
) -> JSON:
    """The policy's HPA, named `name`, scaling `deployment`, with the app's labels."""
    manifest: JSON = scaling.policy().hpa_manifest(deployment, namespace=namespace)
    manifest["metadata"] = {"name": name, "labels": {**manifest["metadata"]["labels"], **labels}}
    return manifest


def pdb_manifest(
    scaling: AutoScaling, name: str, selector: dict[str, str], namespace: str,
    labels: dict[str, str],
) -> JSON:
    """The policy's PDB, named `name`, covering the pods `selector` matches."""
    manifest: JSON = scaling.policy().pdb_manifest(name, selector, namespace=namespace)
    manifest["metadata"] = {"name": name, "labels": {**manifest["metadata"]["labels"], **labels}}
    return manifest
