"""The 500 answer for an exception no handler caught, carrying the correlation id.

Starlette runs this inside its outermost `ServerErrorMiddleware`, after our middleware has
returned, so the request id is read from `scope["state"]` (set by `CorrelationIdMiddleware`)
rather than the context variable, and put on the log record, the header and the body.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse

from app.monitoring.correlation import REQUEST_ID_HEADER

logger = logging.getLogger("app.errors")


async def unhandled_exception_handler(request: Request, error: Exception) -> JSONResponse:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    logger.error(
        "unhandled %s in %s %s", type(error).__name__, request.method, request.scope.get("path"),
        exc_info=error, extra={"request_id": request_id},
    )
    return JSONResponse(
        {"detail": "Internal Server Error", "request_id": request_id},
        status_code=500,
        headers={REQUEST_ID_HEADER: request_id},
    )
