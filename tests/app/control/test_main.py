"""create_control_app: the runtime's middleware and routes around the control routes."""

from __future__ import annotations

import json
import time

import pytest

from app.control.main import create_control_app
from app.control.webhooks.signatures import floodgate_signature
from tests.app.control.conftest import SECRET, control_settings, read_flow_run

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


SQL_LOOKING = "SELECT id FROM t WHERE a = 1"  # a legitimate env value the screen would refuse


def test_control_bodies_are_added_to_the_unscreened_paths_keeping_the_operators():
    app = create_control_app(control_settings(validation_unscreened_paths=["/config"]))
    assert app.state.settings.validation_unscreened_paths == ["/config", "/rollouts", "/webhooks/"]


async def test_a_rollout_env_may_look_like_sql(control, app_name):
    body = {"app": app_name, "version": "v2", "env": {"REPORT_QUERY": SQL_LOOKING}}
    response = await control.post("/rollouts", json=body)
    assert response.status_code == 202, response.text
    run = await read_flow_run(response.json()["flow_run_id"])
    assert run.parameters["spec"]["env"] == {"REPORT_QUERY": SQL_LOOKING}


async def test_a_signed_webhook_env_may_look_like_sql(control, app_name):
    body = json.dumps({"app": app_name, "version": "v2", "strategy": "canary",
                       "env": {"REPORT_QUERY": SQL_LOOKING}}).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Floodgate-Delivery": "ci-sql-1",
               "X-Floodgate-Timestamp": stamp,
               "X-Floodgate-Signature": floodgate_signature(SECRET, "ci-sql-1", stamp, body)}
    response = await control.client.post("/webhooks/ci", content=body, headers=headers)
    assert response.status_code == 202, response.text
    run = await read_flow_run(response.json()["flow_run_id"])
    assert run.parameters["spec"]["env"] == {"REPORT_QUERY": SQL_LOOKING}


async def test_control_bodies_keep_the_size_limit(start_control, memory_target, app_name):
    settings = control_settings(prefect_api_url=None, max_body_bytes=256)
    control = await start_control(settings, memory_target)
    body = {"app": app_name, "version": "v2", "env": {"REPORT_QUERY": SQL_LOOKING + " " * 300}}
    response = await control.post("/rollouts", json=body)
    assert response.status_code == 413
    assert response.json() == {"detail": "request body larger than 256 bytes"}


async def test_other_control_paths_are_still_screened(start_control, memory_target):
    control = await start_control(control_settings(prefect_api_url=None), memory_target)
    response = await control.get("/apps", params={"filter": SQL_LOOKING})
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["reason"]) == ("query.filter",
                                                                     "sql_injection")
