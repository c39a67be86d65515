"""create_control_app: the runtime's middleware and routes around the control routes."""

from __future__ import annotations

import pytest

from app.control.main import create_control_app
from tests.app.control.conftest import control_settings

pytestmark = pytest.mark.integration


async def test_control_answers_carry_the_request_id_and_are_counted(control, app_name):
    response = await control.get(f"/rollouts/{app_name}", headers={"X-Request-ID": "ctl-1"})
    assert response.headers["x-request-id"] == "ctl-1"
    refused = await control.client.get(f"/rollouts/{app_name}")  # no token
    assert refused.status_code == 401
    metrics = (await control.client.get("/metrics")).text
    assert 'route="/rollouts/{app}",status="200"' in metrics
    assert 'route="/rollouts/{app}",status="401"' in metrics
    assert app_name not in metrics  # labelled by route template, never by raw path


async def test_runtime_routes_stay_open(control):
    assert (await control.client.get("/health")).status_code == 200


def test_routes_and_openapi():
    app = create_control_app(control_settings())
    openapi = app.openapi()
    assert {"/rollouts", "/rollouts/{app}", "/rollouts/{app}/history", "/rollouts/{app}/promote",
            "/rollouts/{app}/abort", "/rollouts/{app}/rollback", "/apps", "/webhooks/ci",
            "/health"} <= set(openapi["paths"])
    schema = openapi["components"]["schemas"]["RolloutRequest"]
    assert schema["properties"]["strategy"]["$ref"].endswith("/Strategy")
    assert schema["additionalProperties"] is True


async def test_lifespan_without_prefect_still_serves_reads(start_control, memory_target,
                                                           app_name):
    control = await start_control(control_settings(prefect_api_url=None), memory_target)
    assert control.app.state.prefect_deployments is None
    assert (await control.get(f"/rollouts/{app_name}")).status_code == 200
