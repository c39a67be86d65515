"""start_rollout under concurrency: two requests for one app never both start a run."""

from __future__ import annotations

import asyncio

import pytest

from tests.app.control.conftest import runs_for_app

pytestmark = pytest.mark.integration


async def test_concurrent_starts_of_two_versions_start_exactly_one(
    control, app_name, floodgate_deployments
):
    responses = await asyncio.gather(*(
        control.post("/rollouts", json={"app": app_name, "version": version})
        for version in ("v2", "v3", "v4", "v5")
    ))  # fmt: skip
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202, 409, 409, 409]
    runs = await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name)
    assert len(runs) == 1


async def test_concurrent_identical_starts_share_one_run(control, app_name, floodgate_deployments):
    responses = await asyncio.gather(*(
        control.post("/rollouts", json={"app": app_name, "version": "v2"}) for _ in range(4)
    ))  # fmt: skip
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 202]
    assert len({r.json()["flow_run_id"] for r in responses}) == 1
    assert len(await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name)) == 1
