"""Probes for the dependencies `/health/detailed` reports, built from settings and app clients.

Each probe does the cheapest request that proves the dependency can do its job:
* Redis: `PING` on the app's pooled client.
* Prometheus: `GET /-/ready` (ready to serve queries, not merely alive).
* Prefect: `GET {PREFECT_API_URL}/health` (the API URL already ends in `/api`).
* Kubernetes: `GET /readyz`, open to unauthenticated callers by the default RBAC role
  `system:public-info-viewer`.
"""

from __future__ import annotations

from collections.abc import Collection

import httpx

from app.monitoring.health import ComponentCheck, Probe
from app.redis_client import RedisClient

HEALTH_COMPONENTS = ("redis", "prometheus", "prefect", "kubernetes")


def redis_probe(client: RedisClient) -> Probe:
    async def probe() -> None:
        if not await client.ping():
            raise ConnectionError("PING returned a falsy reply")

    return probe


def http_probe(client: httpx.AsyncClient, url: str) -> Probe:
    """Healthy when `url` answers 2xx."""

    async def probe() -> None:
        response = await client.get(url)
        if not response.is_success:
            raise ConnectionError(f"HTTP {response.status_code} from {url}")

    return probe


def build_checks(
    *,
    critical: Collection[str],
    redis: RedisClient | None = None,
    http: httpx.AsyncClient | None = None,
    prometheus_url: str | None = None,
    prefect_api_url: str | None = None,
    kubernetes_api_url: str | None = None,
    kubernetes_http: httpx.AsyncClient | None = None,
) -> list[ComponentCheck]:
    """One check per configured dependency; an unconfigured one is left out (not 'down')."""
    checks: list[ComponentCheck] = []
    if redis is not None:
        checks.append(ComponentCheck("redis", redis_probe(redis), "redis" in critical))
    urls = {
        "prometheus": (prometheus_url, "/-/ready", http),
        "prefect": (prefect_api_url, "/health", http),
        "kubernetes": (kubernetes_api_url, "/readyz", kubernetes_http or http),
    }
    for name, (base, path, client) in urls.items():
        if base and client is not None:
            url = base.rstrip("/") + path
            checks.append(ComponentCheck(name, http_probe(client, url), name in critical))
    return checks
