"""Hypothesis: malformed methods, paths, headers, bodies and encodings thrown at the assembled
app (every middleware create_app installs) never produce a 5xx or an exception.

Driven through raw ASGI, not an HTTP client, so the inputs can be what a client library would
refuse to send (bad header bytes, lying Content-Length, split and undecodable bodies).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from app.config import Settings
from app.main import create_app


class Transaction(BaseModel):
    amount: float = Field(ge=0, le=1_000_000)
    currency: str = Field(min_length=3, max_length=3)
    user_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


def build_app() -> FastAPI:
    # A limit the fuzzing never reaches (so every layer sees every example), and the client as a
    # trusted proxy (so garbage X-Forwarded-For headers reach the rate limiter's key function).
    app = create_app(Settings(app_name="fuzz", app_version="v0", configure_logging=False,
                              rate_limit_requests=10**9, trusted_proxies=["127.0.0.1/32"]))

    @app.post("/score")
    async def score(transaction: Transaction) -> dict[str, float]:
        return {"risk": min(1.0, transaction.amount / 10_000)}

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


@pytest.fixture(scope="module")
def started() -> Iterator[tuple[FastAPI, asyncio.AbstractEventLoop]]:
    """One app with its lifespan entered, on one loop reused by every example."""
    app = build_app()
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    yield app, loop
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    loop.close()


async def call(app: FastAPI, scope: dict[str, Any], chunks: list[bytes]) -> int:
    """Run one request; returns the response status, 599 if the app raised."""
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)] or [{"type": "http.request", "body": b""}]
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    try:
        await app(scope, receive, send)
    except Exception:
        return 599
    return status[0] if status else 599


header_names = st.one_of(
    st.sampled_from([b"x-request-id", b"content-type", b"content-length", b"accept",
                     b"transfer-encoding", b"content-encoding", b"x-forwarded-for", b"cookie",
                     b"authorization", b"user-agent", b"host"]),
    st.binary(min_size=1, max_size=40).map(bytes.lower),
)
headers = st.lists(st.tuples(header_names, st.binary(max_size=300)), max_size=12)
paths = st.one_of(
    st.sampled_from(["/score", "/items/1", "/items/-5", "/health", "/health/detailed",
                     "/metrics", "/", "/score/"]),
    st.text(max_size=80).map(lambda s: "/" + s),
    st.from_regex(r"/items/[^/]{0,30}", fullmatch=True),
)
# ASGI servers (uvicorn with httptools or h11) answer 400 themselves to raw non-ASCII bytes in
# the request line, so the query string an app sees is ASCII; percent-escapes in it may still
# decode to anything (%80, %ff, %00), which is what is generated here.
queries = st.one_of(
    st.binary(max_size=100).map(lambda b: bytes(c for c in b if 0x21 <= c < 0x7F)),
    st.lists(st.integers(0, 255), max_size=20).map(
        lambda codes: "&".join(f"a{i}=%{c:02x}" for i, c in enumerate(codes)).encode()),
)
methods = st.one_of(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS",
                                     "PATCH"]), st.text(min_size=1, max_size=12))
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.fixed_dictionaries({"amount": json_values, "currency": json_values,
                           "user_id": json_values}).map(lambda v: json.dumps(v).encode()),
    st.tuples(st.text(max_size=200), st.sampled_from(["utf-16", "utf-32", "latin-1",
                                                       "utf-8-sig", "cp1252"]))
    .map(lambda t: json.dumps({"user_id": t[0]}, ensure_ascii=False)
         .encode(t[1], errors="replace")),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=methods, path=paths, query=queries, header_list=headers,
       body=bodies, split=st.integers(min_value=0, max_value=5))
def test_malformed_requests_never_get_a_5xx(started, method, path, query, header_list, body,
                                            split):
    app, loop = started
    chunks = [body[i::split + 1] for i in range(split + 1)] if split else [body]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"), "query_string": query,
        "root_path": "", "headers": header_list, "client": ("127.0.0.1", 5000),
        "server": ("fuzz", 80),
    }
    status = loop.run_until_complete(call(app, scope, chunks))
    assert status < 500, (method, path, header_list, body[:200])


def test_the_fuzz_driver_does_see_a_500(started):
    """Guard against a driver that cannot fail: a raising route is reported as >= 500."""
    app, loop = started

    @app.get("/__raise")
    async def boom() -> None:
        raise RuntimeError("boom")

    scope = {"type": "http", "method": "GET", "path": "/__raise", "raw_path": b"/__raise",
             "query_string": b"", "root_path": "", "headers": [], "http_version": "1.1",
             "scheme": "http", "asgi": {"version": "3.0"}}
    try:
        assert loop.run_until_complete(call(app, scope, [])) >= 500
    finally:
        app.router.routes.pop()
