"""`GET /apps`: every app the target knows, its stable version and last rollout phase."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.control.deps import Operator, TargetDep
from app.control.status import list_apps

router = APIRouter(tags=["apps"], dependencies=[Operator])


@router.get("/apps")
async def apps(target: TargetDep) -> dict[str, Any]:
    return {"target": target.name, "apps": await list_apps(target)}
