"""`GET /metrics`: this app's own registry in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import MetricsDep

router = APIRouter(tags=["monitoring"])


@router.get("/metrics", include_in_schema=False)
async def metrics(collector: MetricsDep) -> Response:
    body, content_type = collector.render()
    return Response(body, media_type=content_type)
