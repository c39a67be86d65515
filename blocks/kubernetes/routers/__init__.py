"""Routers by name: an explicit factory, so an unknown name fails with the list of valid ones."""

from __future__ import annotations

from collections.abc import Callable

from blocks.errors import ConfigurationError
from blocks.kubernetes.routers.base import Router, Services, Split, plan_split
from blocks.kubernetes.routers.gateway_api import GatewayApiRouter
from blocks.kubernetes.routers.nginx_ingress import NginxIngressRouter
from blocks.kubernetes.routers.noop import NoopRouter
from blocks.kubernetes.routers.replica_ratio import ReplicaRatioRouter

ROUTERS: dict[str, Callable[[Services], Router]] = {
    NoopRouter.name: NoopRouter,
    ReplicaRatioRouter.name: ReplicaRatioRouter,
    NginxIngressRouter.name: NginxIngressRouter,
    GatewayApiRouter.name: GatewayApiRouter,
}
DEFAULT_ROUTER = ReplicaRatioRouter.name


def check_router_name(name: str) -> str:
    if name not in ROUTERS:
        raise ConfigurationError(
            f"unknown router {name!r}; valid routers: {', '.join(sorted(ROUTERS))}"
        )
    return name


def make_router(name: str, services: Services) -> Router:
    return ROUTERS[check_router_name(name)](services)


__all__ = ["DEFAULT_ROUTER", "ROUTERS", "Router", "Services", "Split", "check_router_name",
           "make_router", "plan_split"]
