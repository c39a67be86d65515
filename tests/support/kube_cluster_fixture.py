"""The body of the session fixture `kube_cluster` (tests/conftest.py), shared by every k8s test
directory so a worker starts one cluster, not one per directory. Tests must not assume they own
the cluster: use a fresh namespace (`kube_cluster.create_namespace`), never delete shared
objects."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.support.controlplane import ControlPlane, ControlPlaneMissing, locate_build

log = logging.getLogger(__name__)


def start_kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
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
