"""POST /rollouts/{app}/rollback: checked against the target, then a run of rollback/restore."""

from __future__ import annotations

import pytest

from tests.app.control.conftest import read_flow_run, runs_for_app, save_rollout

pytestmark = pytest.mark.integration


async def test_rollback_to_a_snapshot_creates_a_restore_run(
    control, app_name, memory_target, floodgate_deployments
):
    snapshot = memory_target.snapshot(app_name)
    response = await control.post(f"/rollouts/{app_name}/rollback?to={snapshot.id}")
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["snapshot"], answer["reason"]) == (
        snapshot.id, f"rollback scheduled: restores snapshot {snapshot.id}")
    run = await read_flow_run(answer["flow_run_id"])
    assert str(run.deployment_id) == floodgate_deployments.ids["rollback/restore"]
    assert run.parameters == {"app": app_name, "target": "local", "snapshot": snapshot.id}


async def test_rollback_without_to_restores_the_newest(control, app_name, memory_target):
    memory_target.snapshot(app_name)
    response = await control.post(f"/rollouts/{app_name}/rollback")
    assert response.status_code == 202
    run = await read_flow_run(response.json()["flow_run_id"])
    assert run.parameters["snapshot"] is None


async def test_rollback_of_a_rollout_in_flight_aborts_it(control, app_name):
    rollout_id = save_rollout(control.target, app_name, "v2", "Analysing", snapshot_id="s1")
    response = await control.post(f"/rollouts/{app_name}/rollback")
    assert response.status_code == 202
    assert response.json()["reason"] == f"rollback scheduled: aborts rollout {rollout_id}"


async def test_unknown_snapshot_is_422_on_the_to_field_and_starts_nothing(
    control, app_name, memory_target, floodgate_deployments
):
    memory_target.snapshot(app_name)
    response = await control.post(f"/rollouts/{app_name}/rollback?to=nosuchsnap")
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", "to"]
    assert "no snapshot nosuchsnap" in error["msg"]
    assert await runs_for_app(floodgate_deployments.ids["rollback/restore"], app_name) == []
    bad = await control.post(f"/rollouts/{app_name}/rollback?to=../../etc")
    assert bad.status_code == 422


async def test_another_snapshot_while_a_rollout_is_in_flight_is_409(
    control, app_name, memory_target
):
    snapshot = memory_target.snapshot(app_name)
    save_rollout(control.target, app_name, "v2", "Shifting", snapshot_id="other")
    response = await control.post(f"/rollouts/{app_name}/rollback?to={snapshot.id}")
    assert response.status_code == 409
    assert "abort it first" in response.json()["detail"]


async def test_nothing_to_roll_back_to_is_409(control, app_name, floodgate_deployments):
    response = await control.post(f"/rollouts/{app_name}/rollback")
    assert response.status_code == 409
    assert response.json()["detail"] == f"{app_name} has no snapshot to roll back to"
    assert await runs_for_app(floodgate_deployments.ids["rollback/restore"], app_name) == []


async def test_rollback_idempotency_key_gives_the_same_run(control, app_name, memory_target):
    memory_target.snapshot(app_name)
    headers = {"Idempotency-Key": "incident-7"}
    first = await control.post(f"/rollouts/{app_name}/rollback", headers=headers)
    again = await control.post(f"/rollouts/{app_name}/rollback", headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["flow_run_id"] == first.json()["flow_run_id"]


async def test_a_second_rollback_is_answered_by_the_first_run(control, app_name, memory_target):
    first_snapshot = memory_target.snapshot(app_name)
    memory_target.snapshot(app_name)
    first = await control.post(f"/rollouts/{app_name}/rollback")
    again = await control.post(f"/rollouts/{app_name}/rollback")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "in_progress"
    assert again.json()["flow_run_id"] == first.json()["flow_run_id"]
    other = await control.post(f"/rollouts/{app_name}/rollback?to={first_snapshot.id}")
    assert other.status_code == 409
    assert "already rolls" in other.json()["detail"]
