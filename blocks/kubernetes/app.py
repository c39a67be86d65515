"""`KubernetesApp`: how one app runs on Kubernetes, stored in the cluster it runs on.

The definition is what a Helm values file would hold for the app — image template, ports,
replicas, health path, base environment, the checks a rollout runs first, and the routing
settings (Ingress host, Gateway) — and nothing about versions: each rollout renders one
Deployment per version from it. `KubernetesTarget.register_app` stores it as YAML in the
ConfigMap `floodgate-app-<name>`, so the cluster, not a file on the orchestrator, is the source
of truth (`kubectl get cm floodgate-app-shop -o yaml` shows it).

Example (the `app.yaml` key of that ConfigMap)::

    name: fraud-api
    image: registry.example/fraud-api:{version}
    container_port: 8000
    replicas: 3
    health_path: /health
    env: {DATABASE_URL: postgres://db/fraud, ENVIRONMENT: production}
    required_config: [DATABASE_URL]
    router: {host: fraud.example.com, gateway: edge}
    autoscaling: true          # HPA + PDB from ENVIRONMENT / K8S_* in the version's env
"""

from __future__ import annotations

import string
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from blocks.errors import TargetError
from blocks.rollout_terms import APP_NAME, ENV_KEY

_HOST = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class EnvAnnotations(BaseModel):
    """Pod-template annotations a version gets when its env has `env` set to `equals`.

    Meant as a test hook: on a kwok cluster `FAULT_UNHEALTHY=1` can map onto
    `floodgate.test/kwok-ready: "false"`, which kwok turns into pods that never become Ready,
    i.e. a version whose readiness probe fails. Real clusters need no such mapping.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = Field(pattern=ENV_KEY)
    equals: str = "1"
    annotations: dict[str, str] = Field(min_length=1)


class RouterSettings(BaseModel):
    """Where the routers send traffic from; which router is used is the target's choice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str | None = Field(
        None, pattern=_HOST, description="Ingress host / HTTPRoute hostname; the public URL."
    )
    path: str = Field("/", pattern=r"^/[^\s]*$")
    ingress_class: str = Field("nginx", pattern=_DNS_LABEL)
    gateway: str | None = Field(None, pattern=_DNS_LABEL, description="Gateway of the HTTPRoute.")
    gateway_namespace: str | None = Field(None, pattern=_DNS_LABEL)
    gateway_section: str | None = Field(None, pattern=_DNS_LABEL, description="Listener name.")


class KubernetesApp(BaseModel):
    """One app the Kubernetes target can roll out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=APP_NAME, description="DNS-label app name.")
    image: str = Field(description="Image template, e.g. registry.example/shop:{version}.")
    container_port: int = Field(8000, ge=1, le=65535, description="Port the app listens on.")
    service_port: int = Field(80, ge=1, le=65535, description="Port of the app's Services.")
    replicas: int = Field(2, ge=1, le=100, description="Instances of a version at full scale.")
    health_path: str = Field(
        "/health", pattern=r"^/[^\s]*$", description="Readiness probe and HTTP health check."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Base env of every version.")
    required_config: list[str] = Field(
        default_factory=list, description="Keys every version's env must set (validation)."
    )
    migration_check: list[str] | None = Field(
        None, description="Command that must exit 0 before any rollout (validation)."
    )
    router: RouterSettings = Field(
        default_factory=RouterSettings, description="Host, path, ingress class, gateway."
    )
    autoscaling: bool = Field(
        False, description="HPA and PDB for the stable version, sized by app.scaling from the "
        "version's ENVIRONMENT and K8S_* env (see blocks.kubernetes.scaling).",
    )
    progress_deadline_seconds: int = Field(
        600, ge=1, le=86_400, description="Deployment progressDeadlineSeconds: how long a "
        "version may take to become Ready before its rollout step fails."
    )
    resources: dict[str, dict[str, str]] | None = Field(
        None, description="Container resources, e.g. {requests: {cpu: 100m}} (CPU HPAs need it)."
    )
    env_annotations: list[EnvAnnotations] = Field(
        default_factory=list,
        description="Env values mapped onto pod annotations (the kwok test hook).",
    )

    @field_validator("image")
    @classmethod
    def _image_template(cls, image: str) -> str:
        fields = {name for _, name, _, _ in string.Formatter().parse(image) if name is not None}
        if fields != {"version"}:
            raise ValueError(
                f"image must contain exactly the placeholder {{version}}, got {image!r}"
            )
        if any(ch.isspace() for ch in image):
            raise ValueError(f"image must not contain whitespace, got {image!r}")
        return image

    @field_validator("env")
    @classmethod
    def _env_keys(cls, env: dict[str, str]) -> dict[str, str]:
        import re

        bad = sorted(key for key in env if not re.fullmatch(ENV_KEY, key))
        if bad:
            raise ValueError(f"env keys {bad} are not valid variable names")
        return env

    def image_for(self, version: str) -> str:
        return self.image.format(version=version)

    def annotations_for(self, env: dict[str, str]) -> dict[str, str]:
        """Pod-template annotations the version's env switches on (see `EnvAnnotations`)."""
        found: dict[str, str] = {}
        for rule in self.env_annotations:
            if env.get(rule.env) == rule.equals:
                found.update(rule.annotations)
        return found

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str, where: str) -> KubernetesApp:
        """Parse a stored definition; TargetError naming `where` and the bad field."""
        try:
            data: Any = yaml.safe_load(text)
            return cls.model_validate(data)
        except (yaml.YAMLError, ValidationError) as exc:
            raise TargetError(f"app definition in {where} is invalid: {exc}") from exc
