"""ValidationMiddleware in front of a real FastAPI app, driven in-process through httpx."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import BaseModel

from app.config import Settings, ValidationMode
from app.validation.middleware import SuspiciousInput, ValidationMiddleware

LIMIT = 1024


class Note(BaseModel):
    text: str


def _fastapi() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"size": len(body), "body": body.decode("utf-8", "replace")}

    @app.post("/notes")
    async def notes(note: Note) -> dict[str, str]:
        return {"text": note.text}

    @app.get("/search")
    async def search(q: str = "") -> dict[str, str]:
        return {"q": q}

    return app


def _settings(mode: ValidationMode = ValidationMode.BLOCK) -> Settings:
    return Settings(validation_mode=mode, max_body_bytes=LIMIT)


async def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
def events() -> list[SuspiciousInput]:
    return []


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def _blocking(events: list[SuspiciousInput], registry: CollectorRegistry) -> ValidationMiddleware:
    return ValidationMiddleware(
        _fastapi(), _settings(), registry=registry, on_suspicious=events.append
    )


async def test_clean_request_passes_with_its_body(
    events: list[SuspiciousInput], registry: CollectorRegistry
) -> None:
    async with await _client(_blocking(events, registry)) as client:
        response = await client.post("/notes?lang=en", json={"text": "O'Brien -- select an option"})
    assert response.status_code == 200
    assert response.json() == {"text": "O'Brien -- select an option"}
    assert events == []


async def test_block_mode_refuses_with_field_and_reason(
    events: list[SuspiciousInput], registry: CollectorRegistry
) -> None:
    async with await _client(_blocking(events, registry)) as client:
        response = await client.post("/notes", json={"text": "x", "meta": {"n": "' or 1=1--"}})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "suspicious input refused",
        "location": "body",
        "field": "$.meta.n",
        "reason": "sql_injection",
        "rule": response.json()["rule"],
    }
    assert [(e.field, e.action, e.path) for e in events] == [("$.meta.n", "blocked", "/notes")]


async def test_query_string_is_screened(
    events: list[SuspiciousInput], registry: CollectorRegistry
) -> None:
    async with await _client(_blocking(events, registry)) as client:
        response = await client.get("/search", params={"q": "<script>alert(1)</script>"})
        fine = await client.get("/search", params={"q": "Please select an option"})
    assert response.status_code == 400
    assert (response.json()["location"], response.json()["field"]) == ("query", "query.q")
    assert response.json()["reason"] == "xss"
    assert fine.json() == {"q": "Please select an option"}


async def test_form_body_is_screened(
    events: list[SuspiciousInput], registry: CollectorRegistry
) -> None:
    async with await _client(_blocking(events, registry)) as client:
        response = await client.post("/echo", data={"name": "admin' --"})
    assert response.status_code == 400
    assert response.json()["field"] == "form.name"


async def test_report_mode_logs_counts_and_replays_the_intact_body(
    events: list[SuspiciousInput], registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    app = ValidationMiddleware(
        _fastapi(),
        _settings(ValidationMode.REPORT),
        registry=registry,
        on_suspicious=events.append,
    )
    payload = b'{"text": "<img src=x onerror=alert(1)>"}'
    with caplog.at_level(logging.WARNING, logger="floodgate.validation"):
        async with await _client(app) as client:
            response = await client.post(
                "/echo", content=payload, headers={"content-type": "application/json"}
            )
    assert response.status_code == 200
    assert response.json() == {"size": len(payload), "body": payload.decode()}
    assert [(e.kind, e.action, e.field) for e in events] == [("xss", "reported", "$.text")]
    assert "suspicious input reported" in caplog.text
    labels = {"kind": "xss", "rule": "event_handler", "location": "body", "action": "reported"}
    assert registry.get_sample_value("floodgate_suspicious_inputs_total", labels) == 1.0
    assert REGISTRY.get_sample_value("floodgate_suspicious_inputs_total", labels) is None


async def test_declared_content_length_over_the_limit_is_refused_before_reading() -> None:
    received: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        message = {"type": "http.request", "body": b"x" * 10, "more_body": True}
        received.append(message)
        return message

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not be called")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo",
        "query_string": b"",
        "headers": [(b"content-length", b"%d" % (LIMIT + 1))],
    }
    await ValidationMiddleware(app, _settings())(scope, receive, send)
    assert received == []
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_50_mb_chunked_body_is_refused_without_buffering_it() -> None:
    """A streamed 50 MB body (no Content-Length) stops at the limit: the middleware pulls
    just past `max_body_bytes` from the client and the app never sees a byte of it."""
    chunk = b"a" * 65_536
    total = 50 * 1024 * 1024
    settings = Settings(max_body_bytes=1_048_576)
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        while pulled < total:
            pulled += len(chunk)
            yield chunk

    app_bytes: list[int] = []
    inner = _fastapi()

    async def counting_app(scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            app_bytes.append(len(message.get("body", b"")))
            return message

        await inner(scope, counted, send)

    async with await _client(ValidationMiddleware(counting_app, settings)) as client:
        response = await client.post("/echo", content=body())
    assert response.status_code == 413
    assert response.json() == {"detail": "request body larger than 1048576 bytes"}
    assert pulled <= settings.max_body_bytes + 2 * len(chunk)
    assert app_bytes == []


async def test_body_at_exactly_the_limit_is_accepted() -> None:
    async with await _client(ValidationMiddleware(_fastapi(), _settings())) as client:
        at_limit = await client.post("/echo", content=b"a" * LIMIT)
        over = await client.post("/echo", content=b"a" * (LIMIT + 1))
    assert (at_limit.status_code, at_limit.json()["size"]) == (200, LIMIT)
    assert over.status_code == 413


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1, 2"])
async def test_malformed_content_length_is_a_400(value: bytes) -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", value)]}
    await ValidationMiddleware(_fastapi(), _settings())(scope, receive, send)
    assert sent[0]["status"] == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"text": ', 422),
        (b"\xef\xbb\xbf{oops", 422),
        (b"[]", 422),
        (b"null", 422),
        (b'{"text": "\xff\xfe"}', 400),  # FastAPI: "There was an error parsing the body"
    ],
)
async def test_malformed_json_goes_on_to_the_app_which_answers(body: bytes, status: int) -> None:
    async with await _client(ValidationMiddleware(_fastapi(), _settings())) as client:
        response = await client.post(
            "/notes", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == status
    assert "location" not in response.json()  # the app's error, not the middleware's


async def test_json_nested_too_deeply_is_a_400_not_a_crash() -> None:
    body = b'{"text": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    app = ValidationMiddleware(_fastapi(), Settings(max_body_bytes=1_048_576))
    async with await _client(app) as client:
        response = await client.post(
            "/notes", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["detail"] == "JSON nested too deeply"


async def test_exempt_paths_are_not_screened() -> None:
    app = ValidationMiddleware(_fastapi(), _settings(), exempt_paths=("/echo",))
    async with await _client(app) as client:
        response = await client.post("/echo", content=b"a" * (LIMIT * 4))
    assert response.status_code == 200


async def test_a_failing_hook_does_not_turn_into_a_500() -> None:
    def broken(event: SuspiciousInput) -> None:
        raise RuntimeError("metrics backend down")

    app = ValidationMiddleware(_fastapi(), _settings(ValidationMode.REPORT), on_suspicious=broken)
    async with await _client(app) as client:
        response = await client.get("/search", params={"q": "' or 1=1--"})
    assert response.status_code == 200


@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_non_http_scopes_pass_straight_through(scope_type: str) -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    async def receive() -> dict[str, Any]:
        raise AssertionError("the middleware must not read from a non-HTTP scope")

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("the middleware must not answer a non-HTTP scope")

    scope = {"type": scope_type, "path": "/ws", "query_string": b"q=<script>", "headers": []}
    await ValidationMiddleware(inner, _settings())(scope, receive, send)
    assert seen == [(scope, receive, send)]


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b'{"text": "\xff"}', "application/json", "JSON body is not UTF-8, UTF-16 or UTF-32"),
        (b'{"text": "\\ud800"}', "application/json", "$.text holds a lone UTF-16 surrogate"),
        (b"caf\xe9", "text/plain", "body is not valid utf-8 text"),
        (b"caf\xe9", "", "body is not valid utf-8 text"),
    ],
)
async def test_undecodable_bodies_are_a_400_even_in_report_mode(
    body: bytes, content_type: str, detail: str
) -> None:
    app = ValidationMiddleware(_fastapi(), _settings(ValidationMode.REPORT))
    async with await _client(app) as client:
        response = await client.post("/echo", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


async def test_text_in_its_declared_charset_is_accepted() -> None:
    async with await _client(ValidationMiddleware(_fastapi(), _settings())) as client:
        response = await client.post(
            "/echo", content=b"caf\xe9", headers={"content-type": "text/plain; charset=latin-1"}
        )
    assert response.status_code == 200


SQL_VALUE = "SELECT id FROM t WHERE a = 1"


def _unscreened(events: list[SuspiciousInput], **settings: Any) -> ValidationMiddleware:
    """/notes unscreened through the setting, the way create_control_app configures it."""
    return ValidationMiddleware(
        _fastapi(),
        Settings(max_body_bytes=LIMIT, validation_unscreened_paths=["/notes"], **settings),
        on_suspicious=events.append,
    )


async def test_unscreened_paths_accept_values_that_look_like_sql(
    events: list[SuspiciousInput],
) -> None:
    async with await _client(_unscreened(events)) as client:
        response = await client.post("/notes?q=%27%20or%201%3D1--", json={"text": SQL_VALUE})
    assert response.status_code == 200
    assert response.json() == {"text": SQL_VALUE}
    assert events == []  # not judged at all: neither refused nor counted


async def test_unscreened_paths_keep_the_body_size_limit(events: list[SuspiciousInput]) -> None:
    too_large = {"text": SQL_VALUE + " " + "x" * LIMIT}

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for chunk in (b'{"text": "', b"x" * LIMIT, b'"}'):
            yield chunk

    async with await _client(_unscreened(events)) as client:
        declared = await client.post("/notes", json=too_large)
        streamed = await client.post(
            "/notes", content=chunked(), headers={"content-type": "application/json"}
        )
    assert declared.status_code == 413
    assert streamed.status_code == 413


async def test_unscreened_paths_still_refuse_what_would_crash_the_app(
    events: list[SuspiciousInput],
) -> None:
    app = _unscreened(events, validation_mode=ValidationMode.REPORT)
    async with await _client(app) as client:
        surrogate = await client.post(
            "/notes", content=b'{"text": "\\ud800"}', headers={"content-type": "application/json"}
        )
    assert surrogate.status_code == 400
    assert surrogate.json() == {"detail": "$.text holds a lone UTF-16 surrogate"}


async def test_paths_outside_the_unscreened_ones_are_still_screened(
    events: list[SuspiciousInput],
) -> None:
    app = ValidationMiddleware(
        _fastapi(), _settings(), unscreened_paths=["/notes"], on_suspicious=events.append
    )
    async with await _client(app) as client:
        echoed = await client.post("/echo", json={"text": SQL_VALUE})
        searched = await client.get("/search", params={"q": SQL_VALUE})
        sibling = await client.post("/notes-admin", json={"text": SQL_VALUE})
    assert (echoed.status_code, searched.status_code, sibling.status_code) == (400, 400, 400)
    assert [e.path for e in events] == ["/echo", "/search", "/notes-admin"]


def _raw_scope(method: str, headers: list[tuple[bytes, bytes]], http_version: str = "1.1",
               query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "http_version": http_version, "method": method, "path": "/any",
            "query_string": query, "headers": headers}


@pytest.mark.parametrize(
    ("method", "headers", "http_version", "read_by_middleware"),
    [
        ("GET", [], "1.1", False),  # no body possible: the app gets the server's own receive
        ("HEAD", [(b"content-length", b"0")], "1.0", False),
        ("GET", [(b"content-length", b"12")], "1.1", True),
        ("GET", [(b"transfer-encoding", b"chunked")], "1.1", True),
        ("GET", [], "2", True),  # HTTP/2 bodies need neither header
        ("POST", [], "1.1", True),  # a client that hangs up is answered with nothing, as always
    ],
)
async def test_only_bodies_that_can_exist_are_read(
    method: str, headers: list[tuple[bytes, bytes]], http_version: str, read_by_middleware: bool
) -> None:
    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(receive)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing to refuse here")

    await ValidationMiddleware(inner, _settings())(
        _raw_scope(method, headers, http_version), receive, send
    )
    assert (seen[0] is not receive) is read_by_middleware


@pytest.mark.parametrize("headers", [[(b"content-length", b"17")],
                                     [(b"transfer-encoding", b"chunked")]])
async def test_a_get_with_a_body_is_still_screened(headers: list[tuple[bytes, bytes]]) -> None:
    sent: list[dict[str, Any]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not see a refused body")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"q=' or 1=1-- &a=b", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    form = [(b"content-type", b"application/x-www-form-urlencoded"), *headers]
    await ValidationMiddleware(inner, _settings())(_raw_scope("GET", form), receive, send)
    assert sent[0]["status"] == 400


async def test_a_bodyless_get_still_has_its_query_screened() -> None:
    sent: list[dict[str, Any]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not see a refused query")

    async def receive() -> dict[str, Any]:
        raise AssertionError("nothing to read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _raw_scope("GET", [], query=b"q=%3Cscript%3Ealert(1)%3C/script%3E")
    await ValidationMiddleware(inner, _settings())(scope, receive, send)
    assert sent[0]["status"] == 400


@pytest.mark.parametrize(
    ("method", "query", "headers", "version", "has_work"),
    [
        ("GET", b"", [], "1.1", False),  # most requests: nothing to read, limit or screen
        ("HEAD", b"", [(b"host", b"t")], "1.0", False),
        ("GET", b"q=1", [], "1.1", True),  # a query string to screen
        ("GET", b"", [(b"Content-Length", b"0")], "1.1", True),  # framing to check
        ("GET", b"", [(b"transfer-encoding", b"chunked")], "1.1", True),
        ("POST", b"", [], "1.1", True),
        ("GET", b"", [], "2", True),  # HTTP/2: a body needs no framing header
    ],
)
def test_has_work_only_when_admit_could_change_something(
    method: str, query: bytes, headers: list[tuple[bytes, bytes]], version: str, has_work: bool
) -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")

    layer = ValidationMiddleware(inner, Settings(configure_logging=False),
                                 exempt_paths=("/health",))
    scope = {"type": "http", "method": method, "path": "/items", "query_string": query,
             "headers": headers, "http_version": version}
    assert layer.has_work(scope) is has_work
    assert layer.has_work({**scope, "path": "/health/detailed"}) is False  # exempt prefix
