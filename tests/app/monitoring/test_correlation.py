"""Correlation ids: accepted when well-formed, made otherwise, echoed, and in log lines."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from app.monitoring.correlation import (
    MAX_REQUEST_ID_LENGTH,
    CorrelationIdMiddleware,
    current_request_id,
    is_well_formed,
)
from app.monitoring.logging import RequestIdFilter

logger = logging.getLogger("tests.correlation")
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()

    @app.get("/work")
    async def work() -> dict[str, str | None]:
        logger.warning("scoring inside the handler")
        return {"seen": current_request_id()}

    @app.get("/already")
    async def already() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"X-Request-ID": "from-handler"})

    app.add_middleware(CorrelationIdMiddleware)
    return app


@pytest.fixture
async def client(app: FastAPI):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://test") as client:
        yield client


@pytest.mark.parametrize(
    "value",
    ["abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "svc:1234.5_x", "A" * MAX_REQUEST_ID_LENGTH],
)
async def test_well_formed_id_is_kept_and_echoed(client, value):
    response = await client.get("/work", headers={"X-Request-ID": value})
    assert response.headers["x-request-id"] == value
    assert response.json() == {"seen": value}


@pytest.mark.parametrize(
    "value",
    ["", "A" * (MAX_REQUEST_ID_LENGTH + 1), "has space", "semi;colon", "quote\"", "a/b",
     "caf\xe9"],
)
async def test_malformed_id_is_replaced(client, value):
    response = await client.get("/work", headers={"X-Request-ID": value.encode("latin-1")})
    returned = response.headers["x-request-id"]
    assert returned != value
    assert GENERATED.fullmatch(returned)
    assert response.json() == {"seen": returned}


def test_well_formed_rejects_control_characters_and_non_ascii():
    assert not is_well_formed(b"abc\r\nX-Evil: 1")
    assert not is_well_formed(b"abc\x00")
    assert not is_well_formed("é".encode())
    assert is_well_formed(b"abc-DEF_1.2:3")


async def test_missing_id_is_generated_fresh_each_time(client):
    first = (await client.get("/work")).headers["x-request-id"]
    second = (await client.get("/work")).headers["x-request-id"]
    assert GENERATED.fullmatch(first)
    assert first != second


async def test_handler_header_is_replaced_not_duplicated(client):
    response = await client.get("/already", headers={"X-Request-ID": "mine"})
    assert response.headers.get_list("x-request-id") == ["mine"]


async def test_id_is_cleared_after_the_request(client):
    await client.get("/work", headers={"X-Request-ID": "req-1"})
    assert current_request_id() is None


async def test_log_line_inside_the_handler_carries_the_id(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="tests.correlation"):
        await client.get("/work", headers={"X-Request-ID": "trace-42"})
        await client.get("/work")

    records = [r for r in caplog.records if r.getMessage() == "scoring inside the handler"]
    assert len(records) == 2
    assert records[0].request_id == "trace-42"  # type: ignore[attr-defined]
    assert GENERATED.fullmatch(records[1].request_id)  # type: ignore[attr-defined]


async def test_websocket_and_lifespan_scopes_pass_through():
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    middleware = CorrelationIdMiddleware(inner)
    await middleware({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    await middleware({"type": "websocket", "headers": []}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan", "websocket"]


def test_request_id_of_echoes_a_well_formed_id_and_replaces_anything_else() -> None:
    from app.monitoring.correlation import request_id_of
    from tests.support.asgi import http_scope

    echoed = request_id_of(http_scope(headers=[(b"x-request-id", b"svc:1234")]))
    assert echoed == ("svc:1234", (b"x-request-id", b"svc:1234"))
    for bad in (b"", b"two words", b"x" * (MAX_REQUEST_ID_LENGTH + 1), b"caf\xc3\xa9"):
        request_id, header = request_id_of(http_scope(headers=[(b"x-request-id", bad)]))
        assert GENERATED.fullmatch(request_id)
        assert header == (b"x-request-id", request_id.encode())


def test_new_ids_are_unique_across_batches() -> None:
    from app.monitoring.correlation import ID_BATCH_SIZE, new_request_id

    ids = [new_request_id() for _ in range(3 * ID_BATCH_SIZE + 5)]
    assert len(set(ids)) == len(ids)
    assert all(GENERATED.fullmatch(i) for i in ids)


def _python_twin_id() -> str:
    from app.monitoring.correlation import _fresh_request_id

    return _fresh_request_id()[0]


@pytest.mark.parametrize("new_request_id", [None, _python_twin_id], ids=["native", "python"])
def test_a_forked_worker_never_hands_out_the_parents_ids(new_request_id: Any) -> None:
    import os

    from app.monitoring import correlation

    new_request_id = new_request_id or correlation.new_request_id
    new_request_id()  # the parent now holds a batch made ahead (Python) or a random state
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the ids it makes, then leave without cleanup
        os.close(read_end)
        os.write(write_end, " ".join(new_request_id() for _ in range(20)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_ids = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent_ids = {new_request_id() for _ in range(20)}
    assert len(child_ids) == 20
    assert not child_ids & parent_ids


def test_threads_making_ids_at_once_never_share_one() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from app.monitoring.correlation import new_request_id

    def make(_: int) -> list[str]:
        return [new_request_id() for _ in range(1_000)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = [i for chunk in pool.map(make, range(8)) for i in chunk]
    assert len(set(ids)) == len(ids) == 8_000


def test_the_native_request_ids_are_in_use() -> None:
    from app import http_headers
    from app.monitoring import correlation

    assert http_headers.native is not None, "app/_native_headers.c was not compiled"
    assert correlation.request_id_of is http_headers.native.request_id_of
    assert correlation.fresh_request_id is http_headers.native.fresh_request_id


def test_the_native_generator_refuses_a_short_seed() -> None:
    from app import http_headers

    assert http_headers.native is not None
    with pytest.raises(ValueError, match="32 bytes"):
        http_headers.native.reseed(b"short")


id_values = st.one_of(
    st.binary(max_size=140),
    st.text(alphabet="abcXYZ019._:-", min_size=0, max_size=140).map(str.encode),
    st.just(b"x" * MAX_REQUEST_ID_LENGTH),
    st.just(b"x" * (MAX_REQUEST_ID_LENGTH + 1)),
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(id_values, max_size=3),
    name=st.sampled_from([b"x-request-id", b"X-Request-ID", b"x-request-ie"]),
)
def test_native_and_python_request_ids_agree(values: list[bytes], name: bytes) -> None:
    """The same id is echoed, or both make a fresh one (32 hex characters, in its header)."""
    from app import http_headers
    from app.monitoring.correlation import _request_id_of

    assert http_headers.native is not None
    scope = {"headers": [(b"host", b"a"), *((name, value) for value in values)]}
    ours, theirs = http_headers.native.request_id_of(scope), _request_id_of(scope)
    echoed = bool(values) and name.lower() == b"x-request-id" and is_well_formed(values[0])
    if echoed:
        assert ours == theirs == (values[0].decode(), (b"x-request-id", values[0]))
    else:
        for request_id, header in (ours, theirs):
            assert GENERATED.fullmatch(request_id)
            assert header == (b"x-request-id", request_id.encode())
        assert ours[0] != theirs[0]
