"""`POST /webhooks/ci`: CI systems start rollouts with a signed request (no bearer token).

The signature is checked first — it is the first dependency, resolved before the target or
Prefect is touched — so an unsigned request learns nothing and starts nothing (401). The
delivery id becomes the flow run's Prefect idempotency key: a replayed delivery answers 200 with
the flow run the first one created. See `app.control` for the curl / GitHub Actions recipe.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.api.deps import SettingsDep
from app.control.deps import AppLocksDep, DeploymentsDep, TargetDep
from app.control.launch import start_rollout
from app.control.responses import launch_response
from app.control.webhooks.payloads import generic_request, github_deployment_request, parse_object
from app.control.webhooks.signatures import VerifiedDelivery, verify

router = APIRouter(tags=["webhooks"])


async def verified_delivery(
    request: Request, settings: SettingsDep
) -> tuple[VerifiedDelivery, dict[str, Any]]:
    """The delivery's verified identity and its JSON body (401 / 400 otherwise)."""
    body = await request.body()
    delivery = verify(
        request.headers, body, settings.control_webhook_secrets, now=time.time(),
        tolerance_seconds=settings.control_webhook_tolerance_seconds,
    )  # fmt: skip
    return delivery, parse_object(body)


Verified = Annotated[tuple[VerifiedDelivery, dict[str, Any]], Depends(verified_delivery)]


def _ignored(delivery: VerifiedDelivery, reason: str) -> JSONResponse:
    return JSONResponse({"status": "ignored", "reason": reason, "delivery": delivery.delivery_id})


@router.post("/webhooks/ci", status_code=202, summary="Start a rollout from CI (signed)")
async def ci_webhook(
    verified: Verified,  # first: nothing below is resolved for an unsigned request
    settings: SettingsDep,
    target: TargetDep,
    deployments: DeploymentsDep,
    locks: AppLocksDep,
) -> JSONResponse:
    delivery, data = verified
    if delivery.scheme == "github":
        if delivery.event == "ping":
            return JSONResponse({"status": "pong", "delivery": delivery.delivery_id})
        if delivery.event != "deployment":
            return _ignored(delivery, f"GitHub event {delivery.event!r} starts nothing; "
                            "subscribe the webhook to 'Deployments' only")  # fmt: skip
        request = github_deployment_request(
            data, now=time.time(), tolerance_seconds=settings.control_webhook_tolerance_seconds
        )
        if request is None:
            return _ignored(delivery, f"deployment action {data.get('action')!r} starts nothing")
    else:
        request = generic_request(data)
    launch = await start_rollout(
        request, target=target, deployments=deployments, settings=settings, locks=locks,
        idempotency_key=f"ci-{delivery.scheme}:{delivery.delivery_id}",
    )  # fmt: skip
    return launch_response(
        launch, app=request.app, deployment=settings.control_deploy_deployment,
        settings=settings, deployments=deployments,
        extra={"version": request.version, "strategy": request.strategy.value,
               "delivery": delivery.delivery_id},
    )  # fmt: skip
