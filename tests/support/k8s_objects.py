"""Objects every test cluster starts with (kwok nodes, Gateway API CRDs) and the waits that go
with them, written against the `kubernetes` client so they read like the code under test."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.controlplane_flags import KWOK_NODE_ANNOTATION


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    check_alive: Callable[[], None] | None = None,
) -> None:
    """Poll `condition` until it holds; raise TimeoutError naming `what` otherwise.

    `check_alive` is called each round so a crashed component fails the wait at once with its
    own error instead of after the whole timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        if check_alive is not None:
            check_alive()
        if condition():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def kwok_node(name: str) -> client.V1Node:
    """A Node that kwok (started with the matching annotation selector) plays the kubelet for."""
    key, value = KWOK_NODE_ANNOTATION
    return client.V1Node(
        metadata=client.V1ObjectMeta(
            name=name,
            annotations={key: value},
            labels={
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        ),
    )


def create_kwok_nodes(api: client.ApiClient, names: list[str]) -> None:
    core = client.CoreV1Api(api)
    for name in names:
        core.create_node(kwok_node(name))


def condition_is(conditions: list[Any] | None, kind: str, status: str = "True") -> bool:
    """Whether a status condition list (nodes, pods, CRDs, ...) has `kind` with `status`."""
    return any(c.type == kind and c.status == status for c in conditions or [])


def nodes_ready(api: client.ApiClient, names: list[str]) -> bool:
    ready = {
        node.metadata.name
        for node in client.CoreV1Api(api).list_node().items
        if node.metadata and node.status and condition_is(node.status.conditions, "Ready")
    }
    return set(names) <= ready


def load_crds(directory: Path) -> list[dict[str, Any]]:
    """The CustomResourceDefinition documents of every YAML file in `directory`."""
    crds = []
    for path in sorted(directory.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                crds.append(document)
    if not crds:
        raise FileNotFoundError(f"no CRDs in {directory}; run scripts/build-controlplane.sh")
    return crds


def install_crds(api: client.ApiClient, crds: list[dict[str, Any]]) -> None:
    """Server-side apply each CRD as-is (the raw document, not a round trip through models)."""
    extensions = client.ApiextensionsV1Api(api)
    for crd in crds:
        extensions.patch_custom_resource_definition(
            crd["metadata"]["name"], crd, field_manager="floodgate-tests", force=True,
            _content_type="application/apply-patch+yaml",
        )


def crds_established(api: client.ApiClient, crds: list[dict[str, Any]]) -> bool:
    extensions = client.ApiextensionsV1Api(api)
    for crd in crds:
        status = extensions.read_custom_resource_definition(crd["metadata"]["name"]).status
        if status is None or not condition_is(status.conditions, "Established"):
            return False
    return True


def service_account_exists(api: client.ApiClient, namespace: str, name: str) -> bool:
    try:
        client.CoreV1Api(api).read_namespaced_service_account(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True
