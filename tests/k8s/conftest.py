"""The real Kubernetes control plane shared by the k8s tests of a session: one per xdist worker
that runs any (about 9 s to start each). Tests must therefore not assume they own the cluster:
use a fresh namespace (`kube_cluster.create_namespace`) and never delete shared objects."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.support.controlplane import ControlPlane, ControlPlaneMissing, locate_build

log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd + kube-apiserver + controller-manager + scheduler + kwok with 3 Ready fake nodes and
    the Gateway API CRDs. Fails (never skips) when the binaries are not built."""
    try:
        build = locate_build()
    except ControlPlaneMissing as error:
        missing = str(error)
    else:
        missing = ""
    if missing:  # fail outside the except block: one clear line, no chained traceback
        pytest.fail(f"Kubernetes control plane not available: {missing}", pytrace=False)
    cluster = ControlPlane(tmp_path_factory.mktemp("kube-cluster"), build)
    try:
        cluster.start()
        log.info("kube_cluster ready in %.1f s at %s", cluster.startup_seconds, cluster.server_url)
        yield cluster
    finally:
        cluster.stop()
