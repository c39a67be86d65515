"""Probes for the dependencies `/health/detailed` reports, built from settings and app clients.

Each probe does the cheapest request that proves the dependency can do its job:
* Redis: `PING` on the app's pooled client.
* Prometheus: `GET /-/ready` (ready to serve queries, not merely alive).
* Prefect: `GET {PREFECT_API_URL}/health` (the API URL already ends in `/api`).
* Rate limiter: its own `limiter.probe` (Redis ping plus breaker state), degraded when it
  admits unchecked (fail-open), down when it refuses (fail-closed).
* Kubernetes: `GET /readyz`, open to unauthenticated callers by the default RBAC role
  `system:public-info-viewer`.
"""

from __future__ import annotations

from collections.abc import Collection

import httpx

from app.config import RedisFailureMode, Settings
from app.monitoring.health import ComponentCheck, Probe
from app.redis_client import RedisClient

HEALTH_COMPONENTS = ("redis", "rate_limiter", "prometheus", "prefect", "kubernetes")


def critical_components(settings: Settings) -> frozenset[str]:
    """HEALTH_CRITICAL_COMPONENTS when set; otherwise derived from the failure policy.

    The rate limiter is critical (it reports `unhealthy` only when it refuses every request,
    i.e. fail-closed without its backend). Redis is critical only when REDIS_FAILURE_MODE is
    `closed`: fail-open means the service keeps serving without Redis, so losing it degrades
    every replica rather than pulling them all out of the load balancer at once.
    """
    if settings.health_critical_components is not None:
        return frozenset(settings.health_critical_components)
    critical = {"rate_limiter"}
    if settings.redis_failure_mode is RedisFailureMode.CLOSED:
        critical.add("redis")
    return frozenset(critical)


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
    rate_limiter: Probe | None = None,
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
    if rate_limiter is not None:
        checks.append(ComponentCheck("rate_limiter", rate_limiter, "rate_limiter" in critical))
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
