"""/metrics: the text format in-process, and end to end — two versions served by uvicorn,
scraped by a real Prometheus, told apart by the `app` and `version` labels."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.support.uvicorn_app import running_app


async def test_metrics_endpoint_serves_the_text_format():
    app = create_app(Settings(app_name="fraud", app_version="v1", configure_logging=False))
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/health")
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE http_request_duration_seconds histogram" in response.text
    assert ('http_request_duration_seconds_bucket{app="fraud",le="0.005",method="GET",'
            'route="/health",version="v1"}') in response.text


@pytest.mark.integration
def test_prometheus_scrapes_two_versions_apart(prometheus_server, tmp_path):
    env = {"APP_NAME": "fraud-e2e", "CONFIGURE_LOGGING": "false"}
    with running_app({**env, "APP_VERSION": "v1"}, workdir=tmp_path) as v1, \
            running_app({**env, "APP_VERSION": "v2"}, workdir=tmp_path) as v2:
        for _ in range(3):
            httpx.get(f"http://{v1}/health")
        httpx.get(f"http://{v2}/health")
        httpx.get(f"http://{v2}/no-such-page")
        prometheus_server.set_targets("fraud-e2e", [v1, v2])
        query = 'http_requests_total{app="fraud-e2e",route="/health"}'
        prometheus_server.wait_for_series(f'count({query}) == 2')
        by_version = {r["metric"]["version"]: float(r["value"][1])
                      for r in prometheus_server.query(query)}
        unmatched = prometheus_server.query(
            'http_requests_total{app="fraud-e2e",route="<unmatched>",status="404"}')
        quantile = prometheus_server.query(
            'histogram_quantile(0.95, sum by (version, le) '
            '(http_request_duration_seconds_bucket{app="fraud-e2e"}))')
        prometheus_server.set_targets("fraud-e2e", [])
    assert by_version == {"v1": 3.0, "v2": 1.0}
    assert [r["metric"]["version"] for r in unmatched] == ["v2"]
    assert {r["metric"]["version"] for r in quantile} == {"v1", "v2"}
