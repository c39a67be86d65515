"""`/rollouts`: start, inspect, promote, abort and roll back rollouts (bearer token required).

Starting and rolling back create Prefect flow runs of the configured deployments (503 with the
reason when Prefect cannot be reached; nothing starts). Reading, promoting and aborting need only
the target, so they keep working while Prefect is down.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from app.api.deps import SettingsDep
from app.control.commands import Command, send_command
from app.control.deps import (
    AppLocksDep,
    DeploymentsDep,
    Operator,
    OptionalDeploymentsDep,
    TargetDep,
)
from app.control.launch import start_rollout
from app.control.models import SNAPSHOT_ID, RolloutRequest
from app.control.responses import launch_response
from app.control.restore import start_restore
from app.control.status import app_history, app_status
from app.control.webhooks.signatures import DELIVERY_ID
from blocks.rollout_terms import APP_NAME

router = APIRouter(prefix="/rollouts", tags=["rollouts"], dependencies=[Operator])

AppPath = Annotated[str, Path(pattern=APP_NAME, description="The app's name.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=DELIVERY_ID.pattern,
        description="Retrying with the same key returns the same flow run instead of a new one.",
    ),
]


def _key(prefix: str, value: str | None) -> str | None:
    return f"{prefix}:{value}" if value is not None else None


@router.post("", status_code=202, summary="Start a rollout")
async def start(
    request: RolloutRequest,
    settings: SettingsDep,
    target: TargetDep,
    deployments: DeploymentsDep,
    locks: AppLocksDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """202 with the flow run that rolls the app out (200 if one already does)."""
    launch = await start_rollout(
        request, target=target, deployments=deployments, settings=settings, locks=locks,
        idempotency_key=_key("api", idempotency_key),
    )  # fmt: skip
    return launch_response(
        launch, app=request.app, deployment=settings.control_deploy_deployment,
        settings=settings, deployments=deployments,
        extra={"version": request.version, "strategy": request.strategy.value},
    )  # fmt: skip


@router.get("/{app}", summary="Where an app's rollout is")
async def status(app: AppPath, target: TargetDep) -> dict[str, Any]:
    """Phase, stable version, weights read back from the target, entry point, rollout."""
    return await app_status(target, app)


@router.get("/{app}/history", summary="An app's rollouts, newest first")
async def history(
    app: AppPath, target: TargetDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> dict[str, Any]:
    return {"app": app, "rollouts": await app_history(target, app, limit)}


@router.post("/{app}/promote", status_code=202, summary="Pass the current step")
async def promote(
    app: AppPath,
    settings: SettingsDep,
    target: TargetDep,
    deployments: OptionalDeploymentsDep,
    full: Annotated[bool, Query(description="Skip every remaining step.")] = False,
) -> dict[str, Any]:
    command: Command = "promote-full" if full else "promote"
    return await send_command(
        app, command, target=target, deployments=deployments, settings=settings
    )


@router.post("/{app}/abort", status_code=202, summary="Stop and roll back to the snapshot")
async def abort(
    app: AppPath, settings: SettingsDep, target: TargetDep, deployments: OptionalDeploymentsDep
) -> dict[str, Any]:
    return await send_command(app, "abort", target=target, deployments=deployments,
                              settings=settings)


@router.post("/{app}/rollback", status_code=202, summary="Restore a snapshot")
async def rollback(
    app: AppPath,
    settings: SettingsDep,
    target: TargetDep,
    deployments: DeploymentsDep,
    to: Annotated[
        str | None, Query(pattern=SNAPSHOT_ID, description="Snapshot id (default: newest).")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Abort the rollout in flight, or restore the newest (or `to`) snapshot."""
    launch = await start_restore(
        app, to, target=target, deployments=deployments, settings=settings,
        idempotency_key=_key("api-rollback", idempotency_key),
    )  # fmt: skip
    return launch_response(
        launch, app=app, deployment=settings.control_rollback_deployment, settings=settings,
        deployments=deployments, extra={"snapshot": to},
    )  # fmt: skip
