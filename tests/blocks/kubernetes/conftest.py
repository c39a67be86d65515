"""Fixtures for the Kubernetes target's tests: a fresh namespace per test on the session's
control plane (`kube_cluster`, tests/conftest.py) and a factory of targets on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from blocks.kubernetes.settings import TargetSettings
from blocks.kubernetes.target import KubernetesTarget
from tests.support.controlplane import ControlPlane, api_client_for
from tests.support.k8s_target import TargetFactory


@pytest.fixture
def namespace(kube_cluster: ControlPlane) -> str:
    name = f"fg-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_namespace(name)
    return name


@pytest.fixture
def admin_api(kube_cluster: ControlPlane) -> Iterator[client.ApiClient]:
    with kube_cluster.api_client() as api:
        yield api


@pytest.fixture
def make_target(kube_cluster: ControlPlane, namespace: str) -> Iterator[TargetFactory]:
    """Targets in the test's namespace (admin credentials unless `kubeconfig` is given); lease
    and waits shrunk so crashed holders and failing pods show up in seconds."""
    clients: list[client.ApiClient] = []

    def make(kubeconfig: Path | None = None, ns: str | None = None, **settings: Any
             ) -> KubernetesTarget:
        api = api_client_for(kubeconfig or kube_cluster.kubeconfig)
        clients.append(api)
        defaults: dict[str, Any] = {"lease_duration_seconds": 2, "wait_timeout_seconds": 90,
                                    "poll_seconds": 0.1}
        return KubernetesTarget(api, ns or namespace, TargetSettings(**{**defaults, **settings}))

    yield make
    for api in clients:
        api.close()  # type: ignore[no-untyped-call]
