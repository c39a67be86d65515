"""Scaling configuration: shared sessions, pool sizing, HPA/PDB and load-balancer manifests."""

from app.scaling.autoscaling import AutoScalingPolicy
from app.scaling.bundle import scaling_manifests
from app.scaling.load_balancing import BalancingMethod, LoadBalancingConfig, UpstreamServer
from app.scaling.manifests import to_yaml
from app.scaling.pools import ConnectionPoolConfig
from app.scaling.sessions import RedisSessionStore, Session

__all__ = [
    "AutoScalingPolicy",
    "BalancingMethod",
    "ConnectionPoolConfig",
    "LoadBalancingConfig",
    "RedisSessionStore",
    "Session",
    "UpstreamServer",
    "scaling_manifests",
    "to_yaml",
]
