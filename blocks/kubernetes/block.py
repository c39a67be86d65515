"""`KubernetesTargetBlock`: the Kubernetes target as a Prefect Block (slug
`floodgate-kubernetes-target`), the way Prefect's `KubernetesCredentials.get_client()` works:
the block holds configuration, `get_target()` returns the live target."""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.errors import ConfigurationError
from blocks.kubernetes.connection import ClusterAccess, connect
from blocks.kubernetes.routers import DEFAULT_ROUTER, ROUTERS, check_router_name
from blocks.kubernetes.settings import DEFAULT_LEASE_SECONDS, TargetSettings
from blocks.kubernetes.target import KubernetesTarget
from blocks.prometheus import PrometheusBlock, PrometheusMetricsSource


class KubernetesTargetBlock(Block):
    """Apps as Deployments per version in one namespace, traffic through a chosen router."""

    _block_type_name = "Floodgate Kubernetes Target"
    _block_type_slug = "floodgate-kubernetes-target"
    _description = (
        "A Kubernetes namespace Floodgate rolls apps out in (blue-green, canary, rolling)."
    )

    kubeconfig_path: str | None = Field(None, description="Path to a kubeconfig file.")
    kubeconfig: SecretStr | None = Field(None, description="A kubeconfig document (YAML).")
    in_cluster: bool = Field(False, description="Use the pod's ServiceAccount instead.")
    context: str | None = Field(None, description="kubeconfig context (default: current).")
    namespace: str | None = Field(
        None, description="Namespace of the apps (default: the context's, or the pod's)."
    )
    router: str = Field(
        DEFAULT_ROUTER, description=f"Canary router: one of {', '.join(sorted(ROUTERS))}."
    )
    health_probe: Literal["auto", "api-proxy", "direct", "readiness"] = Field(
        "auto", description="HTTP health checks: direct in-cluster, API proxy outside (auto)."
    )
    lease_duration_seconds: int = Field(
        DEFAULT_LEASE_SECONDS, ge=1, le=3600,
        description="How long a killed orchestrator keeps an app locked.",
    )
    wait_timeout_seconds: float = Field(
        900, gt=0, le=86_400, description="Longest wait for a Deployment to roll out."
    )
    prometheus: PrometheusBlock | None = Field(None, description="Metrics for analysis.")
    prometheus_url: str | None = Field(None, description="Or just the Prometheus URL.")

    def settings(self) -> TargetSettings:
        return TargetSettings(
            router=check_router_name(self.router),
            lease_duration_seconds=self.lease_duration_seconds,
            health_probe=self.health_probe,
            in_cluster=self.in_cluster,
            wait_timeout_seconds=self.wait_timeout_seconds,
        )

    def access(self) -> ClusterAccess:
        return ClusterAccess(
            kubeconfig_path=self.kubeconfig_path,
            kubeconfig_yaml=self.kubeconfig.get_secret_value() if self.kubeconfig else None,
            in_cluster=self.in_cluster,
            context=self.context,
            namespace=self.namespace,
        )

    def get_target(self) -> KubernetesTarget:
        settings = self.settings()  # a bad router fails before connecting
        api_client, namespace = connect(self.access())
        return KubernetesTarget(api_client, namespace, settings)

    def get_metrics_source(self) -> PrometheusMetricsSource:
        if self.prometheus is not None and self.prometheus_url is not None:
            raise ConfigurationError("configure prometheus or prometheus_url, not both")
        if self.prometheus is not None:
            return self.prometheus.get_source()
        if self.prometheus_url is not None:
            return PrometheusMetricsSource(self.prometheus_url)
        raise ConfigurationError(
            "no metrics source: set prometheus (a Floodgate Prometheus block) or prometheus_url"
        )
