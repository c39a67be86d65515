"""Serve Floodgate's deployments from one process, so the Prefect UI can run them.

`floodgate local up` starts this next to the Prefect server. Deployments:

* `deploy/rollout`    — the run form is the `RolloutSpec` (strategy, weights, thresholds, ...);
* `rollback/restore`  — abort a rollout in flight or restore a snapshot;
* `progress/every-minute` — the scheduled tick that advances detached canaries and recovers
  rollouts whose flow run died.

For a work pool and workers instead of `serve`, `prefect.yaml` declares the same deployments.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.deploy import deploy
from flows.rollback import progress, rollback


def _sync(deployment: Any) -> RunnerDeployment:
    """`to_deployment` is typed sync-or-async; called from sync code it is a deployment."""
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def main() -> None:
    target = os.environ.get("FLOODGATE_TARGET", "local")
    interval = float(os.environ.get("FLOODGATE_PROGRESS_INTERVAL_SECONDS", "60"))
    serve(
        _sync(
            deploy.to_deployment(
                name="rollout",
                parameters={"target": target},
                description="Roll an app out: blue-green, canary or rolling, with analysis.",
                tags=["floodgate"],
            )
        ),
        _sync(
            rollback.to_deployment(
                name="restore", parameters={"target": target}, tags=["floodgate"]
            )
        ),
        _sync(
            progress.to_deployment(
                name="every-minute",
                interval=interval,
                parameters={"target": target},
                description="Advance rollouts nobody drives (scheduled canary progressions).",
                tags=["floodgate"],
            )
        ),
        print_starting_message=False,
    )


if __name__ == "__main__":
    main()
