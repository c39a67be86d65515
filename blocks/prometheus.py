"""Prometheus as the `MetricsSource`, through prometheus-api-client, plus its Prefect Block.

The queries read the metrics `app/monitoring` exports (`http_requests_total` and the
`http_request_duration_seconds` histogram, labelled by app and version). Scrapes and health probes
are excluded by route: Prometheus itself calls `/metrics` every scrape interval, and counting those
calls would let an idle canary look busy and healthy.

Failure policy (fail-safe): any error — connection refused, timeout, bad response — becomes
`Measurement(error=...)`, which the analysis counts and which can never pass.
"""

from __future__ import annotations

import math
from typing import Any

from prefect.blocks.core import Block
from prometheus_api_client import PrometheusConnect
from pydantic import Field, SecretStr
from urllib3.util.retry import Retry

from blocks.metrics import Measurement

EXCLUDED_ROUTES = "/metrics|/health.*"


def _selector(app: str, version: str, excluded: str, extra: str = "") -> str:
    def quote(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"')

    labels = f'app="{quote(app)}",version="{quote(version)}",route!~"{excluded}"'
    return "{" + labels + extra + "}"


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds))}s"


class PrometheusMetricsSource:
    """Error rate, p95 latency and request count per (app, version) over a window."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        excluded_routes: str = EXCLUDED_ROUTES,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.excluded_routes = excluded_routes
        self._client = PrometheusConnect(
            url=url,
            headers=headers,
            disable_ssl=False,
            retry=Retry(total=0),
            timeout=math.ceil(timeout),
        )
        self._timeout = timeout

    def queries(self, app: str, version: str, window_seconds: float) -> dict[str, str]:
        """The PromQL behind a measurement (shown in the analysis report)."""
        sel = _selector(app, version, self.excluded_routes)
        errors = _selector(app, version, self.excluded_routes, ',status=~"5.."')
        w = _duration(window_seconds)
        return {
            "requests": f"sum(increase(http_requests_total{sel}[{w}]))",
            "errors": f"sum(increase(http_requests_total{errors}[{w}]))",
            "p95_seconds": (
                "histogram_quantile(0.95, sum by (le) "
                f"(rate(http_request_duration_seconds_bucket{sel}[{w}])))"
            ),
        }

    def _scalar(self, query: str) -> float | None:
        result: list[dict[str, Any]] = self._client.custom_query(
            query, params={"timeout": f"{self._timeout:g}s"}
        )
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) or math.isinf(value) else value

    def measure(self, app: str, version: str, window_seconds: float) -> Measurement:
        queries = self.queries(app, version, window_seconds)
        try:
            requests = self._scalar(queries["requests"])
            errors = self._scalar(queries["errors"]) if requests else None
            p95 = self._scalar(queries["p95_seconds"]) if requests else None
        except Exception as exc:  # any failure is a measurement error, never a pass
            return Measurement(error=f"prometheus at {self.url}: {type(exc).__name__}: {exc}")
        error_rate = None
        if requests:
            error_rate = min(1.0, (errors or 0.0) / requests)
        return Measurement(requests=requests, error_rate=error_rate, p95_seconds=p95)

    def healthy(self) -> bool:
        try:
            return bool(self._client.check_prometheus_connection())
        except Exception:
            return False


class PrometheusBlock(Block):
    """Where Floodgate reads analysis metrics from."""

    _block_type_name = "Floodgate Prometheus"
    _block_type_slug = "floodgate-prometheus"
    _description = "Prometheus server queried for canary analysis."

    url: str = Field("http://127.0.0.1:9090", description="Base URL of the Prometheus API.")
    timeout_seconds: float = Field(5.0, gt=0, le=120, description="Per query.")
    bearer_token: SecretStr | None = Field(None, description="Sent as Authorization: Bearer.")
    excluded_routes: str = Field(
        EXCLUDED_ROUTES, description="Route regex left out of analysis (scrapes, probes)."
    )

    def get_source(self) -> PrometheusMetricsSource:
        headers = None
        if self.bearer_token is not None:
            headers = {"Authorization": f"Bearer {self.bearer_token.get_secret_value()}"}
        return PrometheusMetricsSource(
            self.url,
            timeout=self.timeout_seconds,
            excluded_routes=self.excluded_routes,
            headers=headers,
        )
