"""PrefectDeployments against a real Prefect server, and against servers that fail the ways a
real one does (down, hanging, answering 500)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.control.prefect_api import (
    BUSY_PAUSES,
    DeploymentMissing,
    ParametersRejected,
    PrefectDeployments,
    PrefectUnavailable,
    ui_run_url,
)
from tests.support.http_servers import running_silent_server, running_stub_api
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def deployments(floodgate_deployments):
    async with httpx.AsyncClient(timeout=5) as client:
        yield PrefectDeployments(client, floodgate_deployments.api_url)


def spec(app: str) -> dict[str, Any]:
    return {"spec": {"app": app, "version": "v2"}, "target": "local"}


async def test_create_run_then_the_same_key_names_the_same_run(deployments, app_name):
    key = f"test:{uuid.uuid4()}"
    run, created = await deployments.create_run("deploy/rollout", spec(app_name), key)
    again, created_again = await deployments.create_run("deploy/rollout", spec(app_name), key)
    assert (created, created_again) == (True, False)
    assert again.id == run.id
    assert (run.state_type, run.active, run.idempotency_key) == ("SCHEDULED", True, key)
    found = await deployments.find_by_idempotency_key("deploy/rollout", key)
    assert found is not None
    assert found.id == run.id
    assert await deployments.find_by_idempotency_key("deploy/rollout", "never-used") is None
    assert run.id in {r.id for r in await deployments.active_runs("deploy/rollout")}
    read = await deployments.read_run(run.id)
    assert read is not None
    assert read.parameters == spec(app_name)


async def test_reading_an_unknown_or_malformed_run_id_is_none(deployments):
    assert await deployments.read_run(str(uuid.uuid4())) is None
    assert await deployments.read_run("not-a-uuid") is None


async def test_a_parameter_refused_by_the_schema_names_its_field(deployments, app_name):
    parameters = {"spec": {"app": app_name, "version": "v2", "batch_size": 0}}
    with pytest.raises(ParametersRejected) as caught:
        await deployments.create_run("deploy/rollout", parameters, loc_prefix=("body",))
    assert isinstance(caught.value.detail, list)
    error = caught.value.detail[0]
    assert caught.value.status == 422
    assert error["loc"] == ["body", "batch_size"]
    assert "less than the minimum of 1" in error["msg"]


def test_a_refusal_in_another_shape_is_kept_whole():
    rejected = ParametersRejected("Error hydrating flow run parameters: bad jinja", ("query",))
    assert rejected.detail == [{"loc": ["query"], "type": "prefect_parameters",
                                "msg": "Error hydrating flow run parameters: bad jinja"}]


async def test_a_missing_deployment_is_named(deployments):
    with pytest.raises(DeploymentMissing, match="'deploy/absent' is not registered"):
        await deployments.deployment_id("deploy/absent")


async def test_nothing_listening_is_unavailable():
    async with httpx.AsyncClient(timeout=2) as client:
        deployments = PrefectDeployments(client, f"http://127.0.0.1:{free_port()}/api")
        with pytest.raises(PrefectUnavailable, match="ConnectError"):
            await deployments.create_run("deploy/rollout", spec("fraud"))


async def test_a_hanging_server_is_unavailable_after_the_deadline():
    with running_silent_server() as url:
        async with httpx.AsyncClient(timeout=0.3) as client:
            deployments = PrefectDeployments(client, f"{url}/api")
            with pytest.raises(PrefectUnavailable, match="ReadTimeout"):
                await deployments.deployment_id("deploy/rollout")


@pytest.mark.parametrize("status", [500, 502, 401, 403, 418])
async def test_error_answers_are_unavailable_not_trusted(status):
    routes = {"/api/deployments/name/deploy/rollout": (status, '{"detail": "boom"}')}
    with running_stub_api(routes) as url:
        async with httpx.AsyncClient(timeout=2) as client:
            deployments = PrefectDeployments(client, f"{url}/api")
            with pytest.raises(PrefectUnavailable, match=f"answered {status}"):
                await deployments.deployment_id("deploy/rollout")


@pytest.mark.parametrize(
    ("ui", "api", "expected"),
    [
        (None, "http://127.0.0.1:4200/api", "http://127.0.0.1:4200/runs/flow-run/R"),
        (None, "http://prefect:4200/api/", "http://prefect:4200/runs/flow-run/R"),
        (None, "https://api.prefect.cloud/api/accounts/a/workspaces/w", None),
        ("https://app.prefect.cloud/account/a/workspace/w/", "https://x/api",
         "https://app.prefect.cloud/account/a/workspace/w/runs/flow-run/R"),
    ],
)
def test_ui_run_url(ui, api, expected):
    assert ui_run_url(ui, api, "R") == expected


@pytest.mark.parametrize("body", ["<html>Prefect UI</html>", '{"no_id": 1}', "[1, 2]"])
async def test_an_answer_that_is_not_prefects_api_is_unavailable(body):
    with running_stub_api({"/ui/deployments/name/deploy/rollout": (200, body)}) as url:
        async with httpx.AsyncClient(timeout=2) as client:
            deployments = PrefectDeployments(client, f"{url}/ui")
            with pytest.raises(PrefectUnavailable, match="not Prefect's API"):
                await deployments.deployment_id("deploy/rollout")


BUSY = (503, '{"exception_message": "Service Unavailable"}')
DEPLOYMENT_PATH = "/api/deployments/name/deploy/rollout"


async def test_prefects_busy_answer_is_asked_again_until_it_passes():
    hits: list[str] = []
    answers = [BUSY, BUSY, (200, '{"id": "d-1"}')]
    with running_stub_api({DEPLOYMENT_PATH: answers}, hits) as url:
        async with httpx.AsyncClient(timeout=2) as client:
            deployments = PrefectDeployments(client, f"{url}/api")
            assert await deployments.deployment_id("deploy/rollout") == "d-1"
    assert hits == [DEPLOYMENT_PATH] * 3


async def test_prefect_busy_for_longer_is_unavailable_after_the_last_retry():
    hits: list[str] = []
    with running_stub_api({DEPLOYMENT_PATH: BUSY}, hits) as url:
        async with httpx.AsyncClient(timeout=2) as client:
            deployments = PrefectDeployments(client, f"{url}/api")
            with pytest.raises(PrefectUnavailable, match=r"answered 503: .*Service Unavailable"):
                await deployments.deployment_id("deploy/rollout")
    assert len(hits) == 1 + len(BUSY_PAUSES)


async def test_a_busy_create_run_is_sent_again_with_the_same_idempotency_key():
    """The retried POST is safe twice over: Prefect rolled the first one back, and the key
    names one run even if it had not."""
    hits: list[str] = []
    run = '{"id": "r-1", "name": "n", "state": {"type": "SCHEDULED", "name": "Scheduled"}}'
    routes = {
        DEPLOYMENT_PATH: (200, '{"id": "d-1"}'),
        "/api/deployments/d-1/create_flow_run": [BUSY, (201, run)],
    }
    with running_stub_api(routes, hits) as url:
        async with httpx.AsyncClient(timeout=2) as client:
            deployments = PrefectDeployments(client, f"{url}/api")
            created, new = await deployments.create_run("deploy/rollout", spec("fraud"), "k-1")
    assert (created.id, new) == ("r-1", True)
    assert hits.count("/api/deployments/d-1/create_flow_run") == 2


@pytest.mark.parametrize("body", ['{"detail": "upstream down"}', "<html>503</html>"])
async def test_a_503_that_is_not_prefects_busy_answer_is_not_retried(body):
    hits: list[str] = []
    with running_stub_api({DEPLOYMENT_PATH: (503, body)}, hits) as url:
        async with httpx.AsyncClient(timeout=2) as client:
            deployments = PrefectDeployments(client, f"{url}/api")
            with pytest.raises(PrefectUnavailable, match="answered 503"):
                await deployments.deployment_id("deploy/rollout")
    assert hits == [DEPLOYMENT_PATH]
