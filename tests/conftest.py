"""Fixtures shared by the whole suite: real services started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.controlplane import ControlPlane
from tests.support.kube_cluster_fixture import start_kube_cluster
from tests.support.prefect_server import PrefectServer, running_prefect_server
from tests.support.prometheus import PrometheusServer, running_prometheus
from tests.support.redis_server import RedisServer, running_redis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server per test session (per xdist worker)."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """One real Prometheus per test session (per xdist worker), scraping every 1 s."""
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as server:
        yield server


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """One real Prefect server per session; in-process flow runs are pointed at it."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        running_prefect_server(tmp_path_factory.mktemp("prefect")) as server,
        temporary_settings(updates={PREFECT_API_URL: server.api_url}),
    ):
        yield server


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd + kube-apiserver + controller-manager + scheduler + kwok with 3 Ready fake nodes and
    the Gateway API CRDs, one per xdist worker that runs any k8s test (tests/k8s and the
    Kubernetes target's tests share it). Fails (never skips) when the binaries are not built."""
    yield from start_kube_cluster(tmp_path_factory)
