"""Every refusal of the control API as one exception type, answered as JSON with a reason.

Body: `{"detail": <reason or FastAPI-style error list>, ...extra}` — the `detail` key FastAPI
clients already read, plus machine-usable extras (`known_apps`, `flow_run_id`, ...).
Errors of the target that no route translated (the platform failed or is misconfigured) are
503s with the target's own message: the request may succeed later, nothing was started.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from blocks.errors import AppLocked, TargetError, UnknownApp

logger = logging.getLogger("floodgate.control")


class ControlError(Exception):
    """A refusal: HTTP status, a reason a person can act on, and optional extras."""

    def __init__(
        self,
        status: int,
        detail: str | list[dict[str, Any]],
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail if isinstance(detail, str) else f"{len(detail)} invalid fields")
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extra = extra


def field_error(loc: tuple[str | int, ...], reason: str, kind: str) -> dict[str, Any]:
    """One entry of a 422 list, in FastAPI's `{"loc", "msg", "type"}` shape."""
    return {"loc": list(loc), "msg": reason, "type": kind}


def printable(value: Any) -> Any:
    """`value` with lone surrogates replaced: JSON input may carry them (escaped `\\ud800`),
    and echoing one back in a field name would make the UTF-8 response itself fail."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value


async def control_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ControlError)
    if error.status >= 500:
        logger.warning("%s %s -> %d: %s", request.method, request.url.path, error.status, error)
    body = printable({"detail": error.detail, **error.extra})
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def target_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Target errors a route did not translate: an unknown app is 404, a held lock 409, the rest
    (platform unreachable, misconfiguration) 503 with the target's message."""
    if isinstance(error, UnknownApp):
        status = 404
    elif isinstance(error, AppLocked):
        status = 409
    else:
        status = 503
        logger.warning("target error in %s %s: %s", request.method, request.url.path, error)
    return JSONResponse({"detail": str(error)}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ControlError, control_error_handler)
    app.add_exception_handler(TargetError, target_error_handler)
