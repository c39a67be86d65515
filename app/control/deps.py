"""FastAPI dependencies of the control API as `Annotated` aliases.

Everything comes from `app.state` (set by `create_control_app` and its lifespan). Tests swap the
target with `app.dependency_overrides[get_target] = lambda: some_target`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.control.auth import require_operator
from app.control.errors import ControlError
from app.control.launch import AppLocks
from app.control.prefect_api import PrefectDeployments
from app.control.targets import TargetProvider
from blocks.target import Target


def get_target(request: Request) -> Target:
    provider: TargetProvider = request.app.state.target_provider
    return provider.get()


def get_optional_deployments(request: Request) -> PrefectDeployments | None:
    """None when no Prefect API is configured; 503 if the lifespan has not run."""
    try:
        deployments: PrefectDeployments | None = request.app.state.prefect_deployments
    except AttributeError:
        raise ControlError(503, "not started: the control API's lifespan has not run") from None
    return deployments


def get_deployments(request: Request) -> PrefectDeployments:
    deployments = get_optional_deployments(request)
    if deployments is None:
        raise ControlError(
            503, "PREFECT_API_URL is not set: the control API cannot start or steer runs"
        )
    return deployments


def get_app_locks(request: Request) -> AppLocks:
    locks: AppLocks = request.app.state.app_locks
    return locks


TargetDep = Annotated[Target, Depends(get_target)]
DeploymentsDep = Annotated[PrefectDeployments, Depends(get_deployments)]
OptionalDeploymentsDep = Annotated[PrefectDeployments | None, Depends(get_optional_deployments)]
AppLocksDep = Annotated[AppLocks, Depends(get_app_locks)]
Operator = Depends(require_operator)
