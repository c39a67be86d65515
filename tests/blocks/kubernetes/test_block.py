"""The Prefect Block: configuration in, live target and metrics source out; saved blocks are
resolved by `flows.targets.resolve` as `floodgate-kubernetes-target/<name>`."""

from __future__ import annotations

import uuid

import pytest

from blocks.errors import ConfigurationError
from blocks.kubernetes.block import KubernetesTargetBlock
from blocks.kubernetes.target import KubernetesTarget
from blocks.prometheus import PrometheusBlock
from tests.support.controlplane import ControlPlane


def test_an_unknown_router_fails_before_connecting() -> None:
    block = KubernetesTargetBlock(kubeconfig_path="/nowhere", router="linkerd")
    with pytest.raises(ConfigurationError, match="valid routers: gateway-api, nginx, none, "
                                                 "replica-ratio"):
        block.get_target()


def test_metrics_come_from_the_nested_prometheus_block_or_a_url() -> None:
    nested = KubernetesTargetBlock(prometheus=PrometheusBlock(url="http://prom:9090"))
    assert nested.get_metrics_source().url == "http://prom:9090"
    by_url = KubernetesTargetBlock(prometheus_url="http://other:9090")
    assert by_url.get_metrics_source().url == "http://other:9090"
    with pytest.raises(ConfigurationError, match="no metrics source"):
        KubernetesTargetBlock().get_metrics_source()
    with pytest.raises(ConfigurationError, match="not both"):
        KubernetesTargetBlock(prometheus=PrometheusBlock(), prometheus_url="http://x").\
            get_metrics_source()


@pytest.mark.k8s
def test_the_inline_kubeconfig_is_a_secret(kube_cluster: ControlPlane) -> None:
    block = KubernetesTargetBlock(kubeconfig=kube_cluster.kubeconfig.read_text())
    assert "client-certificate" not in repr(block)
    assert kube_cluster.kubeconfig.read_text() not in str(block.model_dump())


@pytest.mark.k8s
def test_get_target_returns_a_live_target(kube_cluster: ControlPlane, namespace: str) -> None:
    block = KubernetesTargetBlock(kubeconfig_path=str(kube_cluster.kubeconfig),
                                  namespace=namespace, router="nginx",
                                  lease_duration_seconds=5)
    target = block.get_target()
    assert isinstance(target, KubernetesTarget)
    assert target.namespace == namespace
    assert target.router.name == "nginx"
    assert target.settings.lease_duration_seconds == 5
    assert target.apps() == []


@pytest.mark.k8s
@pytest.mark.integration
def test_a_saved_block_is_resolved_by_name(
    kube_cluster: ControlPlane, namespace: str, prefect_server: object
) -> None:
    from flows.targets import resolve

    name = f"k8s-{uuid.uuid4().hex[:6]}"
    KubernetesTargetBlock(
        kubeconfig=kube_cluster.kubeconfig.read_text(), namespace=namespace,
        router="gateway-api", prometheus=PrometheusBlock(url="http://prom.example:9090"),
    ).save(name)
    resolved = resolve(f"floodgate-kubernetes-target/{name}")
    assert isinstance(resolved.target, KubernetesTarget)
    assert resolved.target.namespace == namespace
    assert resolved.target.router.name == "gateway-api"
    assert resolved.target.apps() == []
    assert resolved.metrics.url == "http://prom.example:9090"  # type: ignore[attr-defined]
