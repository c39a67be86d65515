"""`GET /health` (liveness: answers from memory, no I/O, so a slow dependency never gets a
healthy pod restarted) and `GET /health/detailed` (every dependency, each under a deadline;
200 when healthy or degraded, 503 when unhealthy — see `app.monitoring.health`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import HealthDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def liveness(settings: SettingsDep) -> dict[str, Any]:
    return {"status": "ok", "app": settings.app_name, "version": settings.app_version}


@router.get("/health/detailed")
async def detailed(settings: SettingsDep, health: HealthDep) -> JSONResponse:
    report = await health.check()
    body = {"app": settings.app_name, "version": settings.app_version, **report.to_dict()}
    return JSONResponse(body, status_code=report.status.http_status)
