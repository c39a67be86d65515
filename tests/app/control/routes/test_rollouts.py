"""POST /rollouts, GET /rollouts/{app}[/history] against a real Prefect server with the deploy
deployment registered; the runs the API creates are read back with Prefect's own client."""

from __future__ import annotations

import uuid

import pytest

from blocks.errors import TargetError
from tests.app.control.conftest import (
    control_settings,
    read_flow_run,
    runs_for_app,
    save_rollout,
)
from tests.support.memory_target import MemoryApp, MemoryTarget
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


async def test_start_creates_a_run_of_the_deploy_deployment_with_the_request_as_spec(
    control, app_name, floodgate_deployments
):
    body = {"app": app_name, "version": "v2", "strategy": "blue-green", "env": {"MODEL": "m2"},
            "steps": [10, 50, 100], "replicas": 3, "keep_previous_seconds": 5}
    response = await control.post("/rollouts", json=body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "started"
    run = await read_flow_run(answer["flow_run_id"])
    assert str(run.deployment_id) == floodgate_deployments.ids["deploy/rollout"]
    assert run.parameters == {"spec": body, "target": "local"}
    assert run.state.type.value == "SCHEDULED"
    assert answer["watch_url"].endswith(f"/runs/flow-run/{run.id}")
    assert answer["watch_url"].startswith(floodgate_deployments.api_url.removesuffix("/api"))
    assert response.headers["location"] == answer["status_url"] == f"/rollouts/{app_name}"
    assert control.target.load_record(app_name) is None  # the flow writes the record, not us


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"version": "v2", "app": "Fraud!"}, ["body", "app"], "pattern"),
        ({"version": "v2.0/evil"}, ["body", "version"], "pattern"),
        ({"version": "v2", "strategy": "yolo"}, ["body", "strategy"], "canary"),
        ({"version": "v2", "steps": [50, 10, 100]}, ["body", "steps"], "increase"),
        ({"version": "v2", "env": {"1X": "y"}}, ["body", "env"], "variable name"),
        ({}, ["body", "version"], "required"),
    ],
)
async def test_bad_shape_is_422_naming_the_field_and_starts_nothing(
    control, app_name, floodgate_deployments, body, loc, words
):
    response = await control.post("/rollouts", json={"app": app_name, **body})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == loc
    assert words in error["msg"]
    assert await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name) == []


@pytest.mark.parametrize(
    ("extra", "loc", "words"),
    [
        ({"health": {"retries": -1}}, ["body", "health", "retries"], "less than the minimum"),
        ({"replicas": 1000}, ["body", "replicas"], "greater than the maximum"),
        ({"bogus": 1}, ["body"], "'bogus' was unexpected"),
        ({"analysis": {"max_error_rate": "high"}}, ["body", "analysis", "max_error_rate"], ""),
    ],
)
async def test_what_prefect_validates_server_side_is_a_422_with_its_reason(
    control, app_name, floodgate_deployments, extra, loc, words
):
    response = await control.post("/rollouts", json={"app": app_name, "version": "v2", **extra})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert (error["loc"], error["type"]) == (loc, "prefect_schema")
    assert words in error["msg"]
    assert await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name) == []


async def test_unknown_app_is_404_listing_the_known_ones(control, app_name):
    response = await control.post("/rollouts", json={"app": "ghost", "version": "v2"})
    assert response.status_code == 404
    assert response.json()["known_apps"] == sorted([app_name, "payments"])
    assert "unknown app 'ghost'" in response.json()["detail"]


async def test_unfinished_rollout_of_another_version_is_409_with_the_reason(
    control, app_name, floodgate_deployments
):
    rollout_id = save_rollout(control.target, app_name, "v2", "Analysing")
    response = await control.post("/rollouts", json={"app": app_name, "version": "v3"})
    assert response.status_code == 409
    answer = response.json()
    assert answer["rollout_id"] == rollout_id
    assert "unfinished canary rollout to v2 (phase Analysing" in answer["detail"]
    assert await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name) == []


async def test_another_strategy_for_the_same_version_is_409_too(control, app_name):
    save_rollout(control.target, app_name, "v2", "Paused")
    response = await control.post(
        "/rollouts", json={"app": app_name, "version": "v2", "strategy": "rolling"}
    )
    assert response.status_code == 409


async def test_a_scheduled_run_of_another_version_is_409(control, app_name):
    first = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    assert first.status_code == 202
    second = await control.post("/rollouts", json={"app": app_name, "version": "v3"})
    assert second.status_code == 409
    assert second.json()["flow_run_id"] == first.json()["flow_run_id"]
    assert "about to roll" in second.json()["detail"]


async def test_the_same_request_again_returns_the_run_that_carries_it(control, app_name):
    first = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    again = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "in_progress"
    assert again.json()["flow_run_id"] == first.json()["flow_run_id"]


async def test_an_unfinished_rollout_driven_by_an_active_run_is_in_progress(control, app_name):
    first = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    run_id = first.json()["flow_run_id"]
    rollout_id = save_rollout(control.target, app_name, "v2", "Analysing", flow_run_ids=[run_id])
    again = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    assert again.status_code == 200
    assert (again.json()["flow_run_id"], again.json()["rollout_id"]) == (run_id, rollout_id)


async def test_an_unfinished_rollout_nobody_drives_is_resumed_by_a_new_run(
    control, app_name, floodgate_deployments
):
    dead_run = str(uuid.uuid4())  # a flow run Prefect does not know (any more)
    rollout_id = save_rollout(control.target, app_name, "v2", "Analysing", flow_run_ids=[dead_run])
    response = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    assert response.status_code == 202
    assert response.json()["reason"] == f"resumes unfinished rollout {rollout_id}"
    run = await read_flow_run(response.json()["flow_run_id"])
    assert run.parameters["spec"]["version"] == "v2"


async def test_the_stable_version_is_409(control, app_name):
    response = await control.post("/rollouts", json={"app": app_name, "version": "v1"})
    assert response.status_code == 409
    assert response.json()["detail"] == f"{app_name} already runs v1; nothing to roll out"


async def test_a_finished_rollout_does_not_block_the_next(control, app_name):
    save_rollout(control.target, app_name, "v2", "RolledBack")
    response = await control.post("/rollouts", json={"app": app_name, "version": "v3"})
    assert response.status_code == 202


async def test_idempotency_key_header_gives_the_same_run(control, app_name):
    headers = {"Idempotency-Key": "release-42"}
    first = await control.post("/rollouts", json={"app": app_name, "version": "v2"},
                               headers=headers)
    again = await control.post("/rollouts", json={"app": app_name, "version": "v2"},
                               headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "replayed"
    assert again.json()["flow_run_id"] == first.json()["flow_run_id"]
    bad = await control.post("/rollouts", json={"app": app_name, "version": "v2"},
                             headers={"Idempotency-Key": "has spaces"})
    assert bad.status_code == 422


async def test_prefect_down_is_503_nothing_started_and_reads_still_work(
    start_control, app_name, memory_target
):
    down = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    control = await start_control(control_settings(prefect_api_url=down), memory_target)
    response = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Prefect API unavailable, nothing was started")
    assert "ConnectError" in response.json()["detail"]
    assert memory_target.load_record(app_name) is None
    assert (await control.get(f"/rollouts/{app_name}")).status_code == 200


async def test_no_prefect_url_is_503_with_the_setting_to_fix(start_control, app_name,
                                                             memory_target):
    control = await start_control(control_settings(prefect_api_url=None), memory_target)
    response = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    assert response.status_code == 503
    assert "PREFECT_API_URL is not set" in response.json()["detail"]


async def test_an_unregistered_deployment_is_503_saying_so(
    start_control, app_name, memory_target, floodgate_deployments
):
    settings = control_settings(prefect_api_url=floodgate_deployments.api_url,
                                control_deploy_deployment="deploy/nowhere")
    control = await start_control(settings, memory_target)
    response = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    assert response.status_code == 503
    assert "'deploy/nowhere' is not registered" in response.json()["detail"]


async def test_status_reads_weights_back_and_shows_the_rollout(control, app_name, memory_target):
    memory_target.ensure_instances(app_name, "v2", 1, {})
    memory_target.set_weights(app_name, {"v1": 90, "v2": 10})
    rollout_id = save_rollout(control.target, app_name, "v2", "Analysing", step=1,
                              weights={"v1": 95, "v2": 5})  # the record may lag the platform
    response = await control.get(f"/rollouts/{app_name}")
    assert response.status_code == 200
    status = response.json()
    assert status["weights"] == {"v1": 90, "v2": 10}
    assert (status["phase"], status["stable_version"]) == ("Analysing", "v1")
    assert status["entrypoint"] == f"memory://{app_name}"
    assert status["rollout"]["id"] == rollout_id
    assert status["rollout"]["step"] == 1
    assert {i["version"] for i in status["instances"]} == {"v1", "v2"}


class WeightlessTarget(MemoryTarget):
    """A platform whose router cannot be read right now."""

    def get_weights(self, app: str) -> dict[str, int]:
        raise TargetError("nginx admin endpoint: connection refused")


async def test_status_names_a_platform_read_failure_and_keeps_the_record(
    start_control, app_name, floodgate_deployments
):
    target = WeightlessTarget([MemoryApp(app_name, "v1")])
    control = await start_control(
        control_settings(prefect_api_url=floodgate_deployments.api_url), target
    )
    save_rollout(target, app_name, "v2", "Shifting")
    status = (await control.get(f"/rollouts/{app_name}")).json()
    assert status["weights"] is None
    assert status["weights_error"] == "nginx admin endpoint: connection refused"
    assert status["phase"] == "Shifting"


async def test_status_of_an_app_without_rollouts_is_idle_and_unknown_is_404(control, app_name):
    status = (await control.get(f"/rollouts/{app_name}")).json()
    assert (status["phase"], status["rollout"]) == ("Idle", None)
    missing = await control.get("/rollouts/ghost")
    assert missing.status_code == 404
    assert "payments" in missing.json()["known_apps"]
    assert (await control.get("/rollouts/Not_An_App")).status_code == 422


async def test_history_is_newest_first_with_transitions(control, app_name):
    from flows.model import Phase, Rollout
    from flows.spec import RolloutSpec

    first = Rollout(spec=RolloutSpec(app=app_name, version="v2"), from_version="v1")
    first = first.transition(Phase.VALIDATING, "checks").transition(Phase.FAILED, "no config")
    control.target.save_record(app_name, first.model_dump(mode="json"))
    second_id = save_rollout(control.target, app_name, "v3", "Analysing")
    response = await control.get(f"/rollouts/{app_name}/history")
    rollouts = response.json()["rollouts"]
    assert [r["id"] for r in rollouts] == [second_id, first.id]
    assert [t["reason"] for t in rollouts[1]["transitions"]] == ["checks", "no config"]
    assert len((await control.get(f"/rollouts/{app_name}/history?limit=1")).json()["rollouts"]) == 1
    assert (await control.get(f"/rollouts/{app_name}/history?limit=0")).status_code == 422


async def test_apps_lists_stable_versions_and_phases(control, app_name):
    save_rollout(control.target, app_name, "v2", "Paused")
    answer = (await control.get("/apps")).json()
    assert answer["apps"] == [
        {"app": app_name, "stable_version": "v1", "phase": "Paused",
         "rollout_id": answer["apps"][0]["rollout_id"]},
        {"app": "payments", "stable_version": "v7", "phase": "Idle", "rollout_id": None},
    ]


async def test_an_idempotency_key_reused_for_another_rollout_is_409(control, app_name):
    headers = {"Idempotency-Key": f"reused-{app_name}"}
    first = await control.post("/rollouts", json={"app": app_name, "version": "v2"},
                               headers=headers)
    other = await control.post("/rollouts", json={"app": "payments", "version": "v8"},
                               headers=headers)
    assert first.status_code == 202
    assert other.status_code == 409
    assert "already used for another request" in other.json()["detail"]
    assert other.json()["flow_run_id"] == first.json()["flow_run_id"]
