"""`LoadBalancingConfig`: how traffic reaches the replicas, in Kubernetes and behind nginx.

* Kubernetes: a Service with `sessionAffinity: ClientIP` (3 h by default), so a client's
  WebSocket reconnects land on the same pod while it lives; the session itself is in Redis
  (`RedisSessionStore`), so losing the pod loses nothing.
* nginx: an `upstream` block using `least_conn` — long-lived WebSocket connections make
  round-robin uneven, least-connections evens them out. Server addresses and names are checked
  against a strict pattern because they are pasted into nginx's config language.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.scaling.manifests import dns_label

_HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_UPSTREAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
MAX_AFFINITY_SECONDS = 86_400  # Kubernetes' limit for sessionAffinityConfig.clientIP


class BalancingMethod(StrEnum):
    LEAST_CONN = "least_conn"
    ROUND_ROBIN = "round_robin"  # nginx's default: no directive
    IP_HASH = "ip_hash"


@dataclass(frozen=True)
class UpstreamServer:
    """One backend in an nginx upstream."""

    host: str
    port: int
    weight: int = 1
    max_fails: int = 3
    fail_timeout_seconds: int = 10

    def __post_init__(self) -> None:
        if not _is_host(self.host):
            raise ValueError(f"host must be a hostname or an IP address, got {self.host!r}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port must be within 1..65535, got {self.port}")
        if not 1 <= self.weight <= 1000:
            raise ValueError(f"weight must be within 1..1000, got {self.weight}")
        if self.max_fails < 0 or self.fail_timeout_seconds < 1:
            raise ValueError("max_fails must be >= 0 and fail_timeout_seconds >= 1")

    def directive(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (
            f"server {host}:{self.port} weight={self.weight} "
            f"max_fails={self.max_fails} fail_timeout={self.fail_timeout_seconds}s;"
        )


@dataclass(frozen=True)
class LoadBalancingConfig:
    name: str
    port: int = 80
    target_port: int = 8000
    session_affinity_timeout_seconds: int = 3 * 3600
    method: BalancingMethod = BalancingMethod.LEAST_CONN
    keepalive_connections: int = 32

    def __post_init__(self) -> None:
        dns_label("name", self.name)
        for field in ("port", "target_port"):
            if not 1 <= getattr(self, field) <= 65535:
                raise ValueError(f"{field} must be within 1..65535, got {getattr(self, field)}")
        if not 1 <= self.session_affinity_timeout_seconds <= MAX_AFFINITY_SECONDS:
            raise ValueError(
                f"session_affinity_timeout_seconds must be within 1..{MAX_AFFINITY_SECONDS}, "
                f"got {self.session_affinity_timeout_seconds}"
            )
        if self.keepalive_connections < 0:
            raise ValueError("keepalive_connections must be >= 0")

    def service_manifest(
        self, selector: dict[str, str], namespace: str = "default"
    ) -> dict[str, Any]:
        """A ClusterIP Service with ClientIP session affinity."""
        dns_label("namespace", namespace)
        if not selector:
            raise ValueError("a Service needs a non-empty pod selector")
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": self.name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/name": self.name}},
            "spec": {
                "type": "ClusterIP",
                "selector": dict(selector),
                "ports": [{"name": "http", "protocol": "TCP", "port": self.port,
                           "targetPort": self.target_port}],
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {
                    "clientIP": {"timeoutSeconds": self.session_affinity_timeout_seconds}
                },
            },
        }

    def nginx_upstream(
        self, servers: Sequence[UpstreamServer], upstream_name: str | None = None
    ) -> str:
        """The `upstream { ... }` block for nginx's `http` context."""
        name = upstream_name or self.name
        if _UPSTREAM_NAME.fullmatch(name) is None:
            raise ValueError(f"upstream name must match {_UPSTREAM_NAME.pattern}, got {name!r}")
        if not servers:
            raise ValueError("an upstream needs at least one server")
        lines = [f"upstream {name} {{"]
        if self.method is not BalancingMethod.ROUND_ROBIN:
            lines.append(f"    {self.method.value};")
        lines.extend(f"    {server.directive()}" for server in servers)
        if self.keepalive_connections:
            lines.append(f"    keepalive {self.keepalive_connections};")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return _HOSTNAME.fullmatch(value) is not None
