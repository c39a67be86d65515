"""Property tests: whatever headers, bodies, encodings and sizes arrive, never a 500.

Two drivers: httpx.ASGITransport for well-formed HTTP carrying hostile content, and raw ASGI
messages for what httpx refuses to send (broken header bytes, lying Content-Length, odd
chunking). The app behind the middleware is a real FastAPI app with JSON, form and raw routes.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from app.config import Settings, ValidationMode
from app.validation.fastapi_errors import install_validation_error_handler
from app.validation.middleware import ValidationMiddleware

LIMIT = 2048
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Note(BaseModel):
    text: str
    tags: list[str] = []


def _app(mode: ValidationMode) -> ValidationMiddleware:
    inner = FastAPI()
    install_validation_error_handler(inner)  # as create_app does; see fastapi_errors.py

    @inner.post("/notes")
    async def notes(note: Note) -> dict[str, str]:
        return {"text": note.text}

    @inner.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @inner.get("/search")
    async def search(q: str = "") -> dict[str, str]:
        return {"q": q}

    return ValidationMiddleware(
        inner, Settings(validation_mode=mode, max_body_bytes=LIMIT), on_suspicious=lambda e: None
    )


APPS = {mode: _app(mode) for mode in ValidationMode}

hostile_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "' or 1=1--",
            "<script>alert(1)</script>",
            "O'Brien",
            "\x00",
            "%27%20or%201%3D1",
            "\ud800",
            "a" * 3000,
            "&#x6A;avascript:alert(1)",
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(hostile_text, children, max_size=5)
    ),
    max_leaves=20,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "application/ld+json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
        "APPLICATION/JSON",
    ]
)


def _encode(value: Any, encoding: str) -> bytes:
    text = json.dumps(value, allow_nan=True)
    return text.encode(encoding, errors="surrogatepass")


@FUZZ
@given(
    mode=st.sampled_from(list(ValidationMode)),
    path=st.sampled_from(["/notes", "/raw", "/search", "/missing"]),
    params=st.dictionaries(hostile_text, hostile_text, max_size=4),
    body=st.one_of(
        st.builds(_encode, json_values, st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1"])),
        st.binary(max_size=4 * LIMIT),
    ),
    content_type=content_types,
)
async def test_hostile_requests_never_get_a_500(
    mode: ValidationMode, path: str, params: dict[str, str], body: bytes, content_type: str
) -> None:
    transport = httpx.ASGITransport(app=APPS[mode])
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        safe_params = {
            k.encode("utf-8", "surrogatepass").decode("utf-8", "replace"): v.encode(
                "utf-8", "surrogatepass"
            ).decode("utf-8", "replace")
            for k, v in params.items()
        }
        response = await client.post(
            path, params=safe_params, content=body, headers={"content-type": content_type}
        )
    assert response.status_code < 500
    if len(body) > LIMIT:
        assert response.status_code == 413


header_bytes = st.binary(max_size=40)
raw_headers = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([b"content-length", b"Content-Length"]), header_bytes),
        st.tuples(st.just(b"content-type"), header_bytes | st.just(b"application/json")),
        st.tuples(header_bytes, header_bytes),
    ),
    max_size=5,
)
chunks = st.lists(st.binary(max_size=1500), max_size=6)


@FUZZ
@given(
    mode=st.sampled_from(list(ValidationMode)),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "BREW"]),
    path=st.sampled_from(["/notes", "/raw", "/search", "/"]),
    query=st.binary(max_size=200),
    headers=raw_headers,
    body_chunks=chunks,
    disconnect_early=st.booleans(),
)
async def test_malformed_asgi_messages_never_raise_or_500(
    mode: ValidationMode,
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    body_chunks: list[bytes],
    disconnect_early: bool,
) -> None:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in body_chunks
    ]
    if disconnect_early:
        messages.append({"type": "http.disconnect"})
    else:
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
    }
    await APPS[mode](scope, receive, send)
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert len(statuses) <= 1
    assert all(status < 500 for status in statuses)
