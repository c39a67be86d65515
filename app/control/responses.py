"""The answer to a start (`POST /rollouts`, the CI webhook, a rollback): 202 when a flow run was
created now, 200 when an existing one carries the request (a replay, or already in progress).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from app.config import Settings
from app.control.launch import Launch
from app.control.prefect_api import PrefectDeployments, ui_run_url

STATUS_CODES = {"started": 202, "replayed": 200, "in_progress": 200}


def launch_response(
    launch: Launch,
    *,
    app: str,
    deployment: str,
    settings: Settings,
    deployments: PrefectDeployments,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    run = launch.run
    body: dict[str, Any] = {
        "status": launch.status,
        "reason": launch.reason,
        "app": app,
        **(extra or {}),
        "deployment": deployment,
        "target": settings.control_target,
        "rollout_id": launch.rollout_id,
        "flow_run_id": run.id if run else None,
        "flow_run_name": run.name if run else None,
        "flow_run_state": run.state_name if run else None,
        "watch_url": ui_run_url(settings.prefect_ui_url, deployments.api_url, run.id)
        if run
        else None,
        "status_url": f"/rollouts/{app}",
    }
    headers = {"Location": body["status_url"]}
    return JSONResponse(body, status_code=STATUS_CODES[launch.status], headers=headers)
