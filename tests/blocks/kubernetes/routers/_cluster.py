"""Shared set-up of the routers' cluster tests: v1 stable, v2 running beside it."""

from __future__ import annotations

from kubernetes import client

from blocks.kubernetes.target import KubernetesTarget
from tests.support.k8s_target import TargetFactory, install, read, shop_app


def selector(api: client.ApiClient, namespace: str, name: str) -> dict[str, str]:
    return dict(read(api, "Service", namespace, name)["spec"]["selector"])


def replicas(api: client.ApiClient, namespace: str, name: str) -> int:
    return int(read(api, "Deployment", namespace, name)["spec"]["replicas"])


def with_candidate(make_target: TargetFactory, router: str) -> KubernetesTarget:
    target = make_target(router=router)
    app = shop_app(replicas=4)
    install(target, app, "v1")
    target.ensure_instances("shop", "v2", 4, app.env)
    return target
