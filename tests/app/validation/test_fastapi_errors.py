"""The crash-proof 422 handler: binary input to a JSON route is a 422, not a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from app.validation.fastapi_errors import install_validation_error_handler


class Note(BaseModel):
    text: str


def _app(install: bool) -> FastAPI:
    app = FastAPI()
    if install:
        install_validation_error_handler(app)

    @app.post("/notes")
    async def notes(note: Note) -> dict[str, str]:
        return {"text": note.text}

    return app


async def _post_png(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(
            "/notes", content=b"\x89PNG\r\n\x1a\n\xff", headers={"content-type": "image/png"}
        )


async def test_default_fastapi_handler_crashes_on_binary_input() -> None:
    """The bug the handler exists for (if FastAPI fixes it, this test says so)."""
    assert (await _post_png(_app(install=False))).status_code == 500


async def test_installed_handler_answers_422_with_printable_input() -> None:
    response = await _post_png(_app(install=True))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body"]
    assert detail[0]["input"].startswith("\ufffdPNG")


async def test_non_finite_json_numbers_are_a_422_not_a_500() -> None:
    """Python's JSON parser takes `Infinity`; echoing it back must not crash the handler."""
    transport = httpx.ASGITransport(app=_app(install=True), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for body in (b"Infinity", b"NaN", b'{"text": -Infinity}'):
            response = await client.post(
                "/notes", content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == 422, body
