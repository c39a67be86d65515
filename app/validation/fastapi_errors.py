"""A 422 handler for FastAPI that cannot crash on the input it is reporting.

FastAPI's default handler echoes the offending input back; when that input is raw bytes that
are not UTF-8 (an image posted to a JSON route, a garbled multipart body) encoding the echo
raises and the client gets a 500 instead of a 422 — and so does a JSON body of `Infinity` or
`NaN`, which Python's parser accepts but a strict JSON response cannot echo. The property tests
found both. `create_app`
installs this handler so a bad request is always the client's 4xx.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _printable(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _finite(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _safe_text(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with FastAPI's usual `{"detail": [...]}` body; bytes, surrogates and infinities
    made printable."""
    errors: Any = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = jsonable_encoder(
        errors, custom_encoder={bytes: _printable, str: _safe_text, float: _finite}
    )
    return JSONResponse(status_code=422, content={"detail": detail})


def install_validation_error_handler(app: FastAPI) -> None:
    """Replace FastAPI's RequestValidationError handler on `app` with the crash-proof one."""
    app.add_exception_handler(RequestValidationError, request_validation_error)
