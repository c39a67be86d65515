"""Promote and abort through the API: commands land on a real target's command queue (the local
target's files, and the in-memory target), and a progress run is started when nobody drives."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from blocks.local.apps import LocalApp
from blocks.local.settings import LocalSettings
from blocks.local.target import LocalTarget
from tests.app.control.conftest import (
    RegisteredDeployments,
    control_settings,
    read_flow_run,
    runs_for_app,
    save_rollout,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "phase", "command"),
    [
        ("promote", "Paused", "promote"),
        ("promote", "Analysing", "promote"),
        ("promote?full=true", "Analysing", "promote-full"),
        ("abort", "Shifting", "abort"),
        ("abort", "Pending", "abort"),
    ],
)
async def test_command_is_posted_to_the_target(control, app_name, path, phase, command):
    rollout_id = save_rollout(control.target, app_name, "v2", phase)
    response = await control.post(f"/rollouts/{app_name}/{path}")
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["command"], answer["rollout_id"], answer["phase"]) == (command, rollout_id,
                                                                          phase)
    assert control.target.take_commands(app_name) == [command]


async def test_nobody_driving_starts_a_progress_run(control, app_name, floodgate_deployments):
    save_rollout(control.target, app_name, "v2", "Paused")
    driver = (await control.post(f"/rollouts/{app_name}/promote")).json()["driver"]
    assert driver["kind"] == "progress_run"
    run = await read_flow_run(driver["flow_run_id"])
    assert str(run.deployment_id) == floodgate_deployments.ids["progress/every-minute"]
    assert run.parameters == {"target": "local"}


async def test_a_running_flow_run_drives_it_and_no_progress_run_is_started(
    control, app_name, floodgate_deployments
):
    from prefect.client.orchestration import get_client
    from prefect.states import Running

    started = await control.post("/rollouts", json={"app": app_name, "version": "v2"})
    run_id = started.json()["flow_run_id"]
    async with get_client() as client:
        await client.set_flow_run_state(run_id, Running(), force=True)
    save_rollout(control.target, app_name, "v2", "Analysing", flow_run_ids=[run_id])
    progress_before = len(await _progress_runs(floodgate_deployments))
    driver = (await control.post(f"/rollouts/{app_name}/abort")).json()["driver"]
    assert (driver["kind"], driver["flow_run_id"]) == ("flow_run", run_id)
    assert len(await _progress_runs(floodgate_deployments)) == progress_before


async def _progress_runs(floodgate_deployments: RegisteredDeployments) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async with get_client() as client:
        deployment = DeploymentFilterId(any_=[floodgate_deployments.ids["progress/every-minute"]])
        return await client.read_flow_runs(deployment_filter=DeploymentFilter(id=deployment))


@pytest.mark.parametrize(
    ("path", "phase"),
    [("promote", "Shifting"), ("promote", "Succeeded"), ("abort", "RollingBack"),
     ("abort", "RolledBack"), ("promote?full=true", "Validating")],
)
async def test_a_phase_that_does_not_allow_it_is_409_and_nothing_is_posted(
    control, app_name, path, phase
):
    save_rollout(control.target, app_name, "v2", phase)
    response = await control.post(f"/rollouts/{app_name}/{path}")
    assert response.status_code == 409
    assert f"is in phase {phase}" in response.json()["detail"]
    assert response.json()["phase"] == phase
    assert control.target.take_commands(app_name) == []


async def test_no_rollout_is_409_and_unknown_app_404(control, app_name):
    response = await control.post(f"/rollouts/{app_name}/abort")
    assert (response.status_code, response.json()["detail"]) == (
        409, f"cannot abort {app_name}: it has no rollout")
    assert (await control.post("/rollouts/ghost/promote")).status_code == 404


async def test_abort_works_while_prefect_is_down(start_control, app_name, memory_target):
    """Fail-open on Prefect for commands: stopping a rollout must not need the orchestrator."""
    down = f"http://127.0.0.1:{free_port()}/api"
    control = await start_control(control_settings(prefect_api_url=down), memory_target)
    save_rollout(memory_target, app_name, "v2", "Analysing")
    response = await control.post(f"/rollouts/{app_name}/abort")
    assert response.status_code == 202
    driver = response.json()["driver"]
    assert driver["kind"] == "unknown"
    assert "Prefect API unavailable" in driver["detail"]
    assert memory_target.take_commands(app_name) == ["abort"]


@pytest.fixture
def local_target(tmp_path, app_name) -> LocalTarget:
    """The local target's real record store and command queue (files; no nginx needed)."""
    target = LocalTarget(LocalSettings(state_dir=tmp_path / "state"))
    target.register_app(LocalApp(
        name=app_name, command=[sys.executable, "-m", "http.server", "{port}"],
        entry_port=free_port(), preview_port=free_port(),
    ))  # fmt: skip
    return target


async def test_abort_lands_in_the_local_targets_command_queue(
    start_control, local_target, app_name, floodgate_deployments
):
    control = await start_control(
        control_settings(prefect_api_url=floodgate_deployments.api_url), local_target
    )
    save_rollout(local_target, app_name, "v2", "Analysing")
    response = await control.post(f"/rollouts/{app_name}/abort")
    assert response.status_code == 202
    fresh = LocalTarget(LocalSettings(state_dir=local_target.settings.state_dir))
    assert fresh.take_commands(app_name) == ["abort"]  # another process reads it from the files
    assert await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name) == []
