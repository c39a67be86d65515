"""HPA and PDB of an app: `app.scaling.scaling_manifests()`, aimed at the stable version.

Decision: one HorizontalPodAutoscaler and one PodDisruptionBudget per app (named after the app)
when the definition sets `autoscaling: true`, targeting the *stable* Deployment only;
`mark_stable` moves them to the new version, restores put them back as they were.

* The candidate's size is Floodgate's plan (`replica_split`, rolling batches). An HPA on it would
  fight that plan — the HPA controller pulls a Deployment into [minReplicas, maxReplicas] even
  when it has no metrics — and skew the traffic the replica-ratio router derives from pod counts.
* A PDB with `minAvailable: 1` on a one-pod canary would block node drains for the whole rollout.
* Between rollouts the stable Deployment is the app, so that is what autoscaling should follow.

The policy is the app's own: `AutoScalingPolicy.from_settings` over the stable version's env
(`ENVIRONMENT` picks the seed's defaults, `K8S_MIN_REPLICAS`, `K8S_MAX_REPLICAS`,
`K8S_TARGET_CPU_PERCENT`, `K8S_TARGET_MEMORY_PERCENT` override them) — the variables the app
itself reads, never the orchestrator's environment. `scaling_manifests` also renders a Service;
it is not used: the entry Service's selector is the routers' traffic switch.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.config import Settings
from app.scaling import scaling_manifests
from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.app import KubernetesApp

JSON = dict[str, Any]
SCALING_ENV = ("ENVIRONMENT", "K8S_MIN_REPLICAS", "K8S_MAX_REPLICAS", "K8S_TARGET_CPU_PERCENT",
               "K8S_TARGET_MEMORY_PERCENT")


class VersionSettings(Settings):
    """The app's `Settings` from one version's env only (no process env, no .env file)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def scaling_objects(
    app: KubernetesApp, stable: str, env: dict[str, str], namespace: str
) -> tuple[JSON, JSON]:
    """(HPA, PDB) named after the app, for the stable version's Deployment and pods."""
    values: dict[str, Any] = {key.lower(): env[key] for key in SCALING_ENV if key in env}
    deployment = names.deployment_name(app.name, stable)
    try:
        settings = VersionSettings(**values)
        _, hpa, pdb = scaling_manifests(
            settings, deployment, names.pod_labels(app.name, stable), namespace,
            port=app.service_port, target_port=app.container_port,
        )
    except (ValidationError, ValueError) as exc:
        raise TargetError(f"autoscaling of {app.name} {stable} from its env "
                          f"({', '.join(SCALING_ENV)}): {exc}") from exc
    for manifest in (hpa, pdb):
        manifest["metadata"] = {"name": names.scaling_name(app.name),
                                "labels": names.app_labels(app.name)}
    return hpa, pdb
