"""Reaching the cluster: one credential source, a clear error for every misconfiguration."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks.errors import ConfigurationError
from blocks.kubernetes.connection import ClusterAccess, connect
from tests.support.controlplane import ControlPlane


@pytest.mark.parametrize(
    ("access", "problem"),
    [(ClusterAccess(kubeconfig_path="/a", kubeconfig_yaml="b"), "not several"),
     (ClusterAccess(kubeconfig_path="/a", in_cluster=True), "not several"),
     (ClusterAccess(in_cluster=True, context="prod"), "context applies to a kubeconfig")],
)
def test_conflicting_sources_are_refused(access: ClusterAccess, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        connect(access)


def test_unreadable_or_invalid_kubeconfigs_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read kubeconfig"):
        connect(ClusterAccess(kubeconfig_path=str(tmp_path / "missing")))
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        connect(ClusterAccess(kubeconfig_yaml="a: [b"))
    with pytest.raises(ConfigurationError, match="not a kubeconfig document"):
        connect(ClusterAccess(kubeconfig_yaml="just text"))
    with pytest.raises(ConfigurationError, match="cannot load Kubernetes credentials"):
        connect(ClusterAccess(kubeconfig_yaml="apiVersion: v1\nkind: Config\n"))


def test_in_cluster_access_outside_a_cluster_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigurationError, match="cannot load Kubernetes credentials"):
        connect(ClusterAccess(in_cluster=True))


@pytest.mark.k8s
def test_a_kubeconfig_file_or_its_text_reaches_the_cluster(kube_cluster: ControlPlane) -> None:
    from kubernetes import client

    for access in (ClusterAccess(kubeconfig_path=str(kube_cluster.kubeconfig)),
                   ClusterAccess(kubeconfig_yaml=kube_cluster.kubeconfig.read_text(),
                                 namespace="apps")):
        api, namespace = connect(access)
        with api:
            assert client.VersionApi(api).get_code().git_version.startswith("v1.")
        assert namespace == (access.namespace or "default")
