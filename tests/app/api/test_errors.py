"""The 500 handler: request id in body, header and log record, even for odd paths."""

from __future__ import annotations

import logging

from starlette.requests import Request

from app.api.errors import unhandled_exception_handler


def request(path: str, state: dict | None = None) -> Request:
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"\xff", "headers": [], "root_path": ""}
    if state is not None:
        scope["state"] = state
    return Request(scope)


async def test_answer_and_log_carry_the_request_id(caplog):
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = await unhandled_exception_handler(
            request("/score", {"request_id": "abc"}), ValueError("bad model"))
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "abc"
    assert response.body == b'{"detail":"Internal Server Error","request_id":"abc"}'
    record = caplog.records[-1]
    assert record.request_id == "abc"  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert "ValueError in POST /score" in record.getMessage()


async def test_without_correlation_middleware_the_id_is_a_dash():
    response = await unhandled_exception_handler(request("/caf\xe9"), KeyError("k"))
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "-"
