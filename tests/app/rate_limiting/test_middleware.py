"""RateLimitMiddleware: headers on every response, 429/503 with reasons, pure ASGI pass-through,
and no malformed header (Hypothesis) ever turning into a 500."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.rate_limiting.keys import ClientIdentity
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.middleware import RateLimitMiddleware
from app.rate_limiting.protocol import BucketStore, RateLimitDecision
from app.rate_limiting.redis_backend import RedisBucketStore
from app.rate_limiting.throttling import InFlightRequests
from tests.support.asgi import call_asgi, http_scope


class RecordingApp:
    """The downstream app: answers 200 and remembers the scopes it saw."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope, receive, send) -> None:
        self.scopes.append(scope)
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})


class CountingLimiter(TokenBucketRateLimiter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(MemoryBucketStore(), **kwargs)
        self.calls = 0

    async def check(self, key: str, cost: int = 1) -> RateLimitDecision:
        self.calls += 1
        return await super().check(key, cost)


def middleware(limit: int = 3, **kwargs: Any) -> tuple[RateLimitMiddleware, RecordingApp]:
    inner = RecordingApp()
    limiter = CountingLimiter(limit=limit, window_seconds=60)
    return RateLimitMiddleware(inner, limiter, key_func=ClientIdentity(), **kwargs), inner


async def test_every_response_carries_the_rate_limit_headers() -> None:
    app, _ = middleware(limit=3)
    responses = [await call_asgi(app, http_scope()) for _ in range(3)]
    assert [r.header("x-ratelimit-remaining") for r in responses] == ["2", "1", "0"]
    assert all(r.header("x-ratelimit-limit") == "3" for r in responses)
    reset = int(responses[-1].header("x-ratelimit-reset") or 0)
    assert time.time() + 59 <= reset <= time.time() + 61
    assert responses[0].header("content-type") == "text/plain"  # the app's own headers kept


async def test_a_refused_request_gets_429_retry_after_and_a_json_reason() -> None:
    app, inner = middleware(limit=1)
    await call_asgi(app, http_scope())
    refused = await call_asgi(app, http_scope())
    assert refused.status == 429
    assert refused.header("retry-after") == "60"
    assert refused.header("x-ratelimit-remaining") == "0"
    assert refused.header("content-type") == "application/json"
    body = json.loads(refused.body)
    assert body["error"] == "rate_limited"
    assert "1 requests per 60 s" in body["detail"]
    assert len(inner.scopes) == 1  # the app never saw the refused request


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
async def test_non_http_scopes_pass_straight_through(scope_type: str) -> None:
    app, inner = middleware()
    scope = {"type": scope_type, "path": "/", "headers": []}
    await app(scope, _never_receive, _never_send)
    assert inner.scopes == [scope]
    assert isinstance(app.limiter, CountingLimiter)
    assert app.limiter.calls == 0


async def _never_receive() -> dict[str, Any]:
    raise AssertionError("the middleware must not read")


async def _never_send(message: dict[str, Any]) -> None:
    raise AssertionError("the middleware must not send")


async def test_exempt_paths_are_not_limited() -> None:
    app, _ = middleware(limit=1, exempt_paths={"/health"})
    for _ in range(3):
        response = await call_asgi(app, http_scope("/health"))
        assert response.status == 200
        assert response.header("x-ratelimit-limit") is None


async def test_in_flight_requests_are_counted_while_the_app_runs() -> None:
    in_flight = InFlightRequests(capacity=10)
    seen: list[int] = []

    async def app_(scope, receive, send) -> None:
        seen.append(in_flight.current)
        await RecordingApp()(scope, receive, send)

    app = RateLimitMiddleware(
        app_, CountingLimiter(limit=5), key_func=ClientIdentity(), in_flight=in_flight
    )
    await call_asgi(app, http_scope())
    assert seen == [1]
    assert in_flight.current == 0


async def test_a_failing_key_function_shares_a_fallback_bucket_instead_of_a_500() -> None:
    def broken(scope: Any) -> str:
        raise RuntimeError("bug")

    app = RateLimitMiddleware(RecordingApp(), CountingLimiter(limit=1), key_func=broken)
    assert (await call_asgi(app, http_scope())).status == 200
    assert (await call_asgi(app, http_scope())).status == 429


async def test_works_in_front_of_a_fastapi_app() -> None:
    api = FastAPI()

    @api.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    limiter = TokenBucketRateLimiter(MemoryBucketStore(), limit=2, window_seconds=60)
    api.add_middleware(RateLimitMiddleware, limiter=limiter, key_func=ClientIdentity())
    transport = httpx.ASGITransport(app=api, client=("198.51.100.4", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        statuses = [(await client.get("/items/1")).status_code for _ in range(3)]
        missing = await client.get("/nope", headers={"X-API-Key": "abc"})
    assert statuses == [200, 200, 429]
    assert missing.status_code == 404  # another client (API key), and the app's own 404
    assert missing.headers["x-ratelimit-remaining"] == "1"


header_bytes = st.binary(min_size=0, max_size=300)
forwarded = st.lists(
    st.one_of(
        st.ip_addresses().map(str), st.text(max_size=40), st.sampled_from(["", " ", ",", "[::1"])
    ),
    max_size=40,
).map(lambda parts: ",".join(parts).encode("utf-8", "surrogateescape"))
garbage_headers = st.lists(
    st.one_of(
        st.tuples(st.just(b"x-forwarded-for"), forwarded),
        st.tuples(st.just(b"x-forwarded-for"), header_bytes),
        st.tuples(st.just(b"x-api-key"), header_bytes),
        st.tuples(st.just(b"x-api-key"), st.binary(min_size=10_000, max_size=200_000)),
        st.tuples(header_bytes.map(lambda b: b.lower()), header_bytes),
    ),
    max_size=8,
)
peers = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["10.0.0.1", "10.2.3.4", "203.0.113.1", "::1", "testclient",
                               "", "fe80::1%eth0", "999.1.1.1"]), st.integers(0, 65535)),
)


async def assert_never_500(store: BucketStore, headers: list[tuple[bytes, bytes]],
                           client: tuple[str, int] | None) -> None:
    limiter = TokenBucketRateLimiter(store, limit=5, window_seconds=60)
    app = RateLimitMiddleware(
        RecordingApp(), limiter, key_func=ClientIdentity(trusted_proxies=["10.0.0.0/8", "::1"])
    )
    response = await call_asgi(app, http_scope(headers=headers, client=client))
    assert response.status in (200, 429)
    assert int(response.header("x-ratelimit-limit") or "") == 5
    assert int(response.header("x-ratelimit-remaining") or "") >= 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=garbage_headers, client=peers)
async def test_malformed_headers_never_cause_a_500_memory(headers, client) -> None:
    await assert_never_500(MemoryBucketStore(), headers, client)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(headers=garbage_headers, client=peers)
async def test_malformed_headers_never_cause_a_500_redis(redis_client, key_prefix, headers,
                                                         client) -> None:
    await assert_never_500(RedisBucketStore(redis_client, prefix=key_prefix), headers, client)


def test_decimal_bytes_formats_and_stays_bounded() -> None:
    from app.rate_limiting import middleware as module

    numbers = [0, 7, 100, 1_795_000_000, 10**12]
    assert [module.decimal_bytes(n) for n in numbers] == [b"%d" % n for n in numbers]
    for n in range(module._MAX_DECIMALS + 10):
        module.decimal_bytes(n)
    assert len(module._DECIMALS) <= module._MAX_DECIMALS
    assert module.decimal_bytes(123_456) == b"123456"


def test_rate_limit_headers_round_the_reset_up_and_never_go_negative() -> None:
    from app.rate_limiting.middleware import rate_limit_headers

    admitted = dict(rate_limit_headers(RateLimitDecision(True, 100, 42, 1_795_000_000.2, 0.0)))
    assert admitted == {b"x-ratelimit-limit": b"100", b"x-ratelimit-remaining": b"42",
                        b"x-ratelimit-reset": b"1795000001"}
    refused = dict(rate_limit_headers(RateLimitDecision(False, 100, -1, 1_795_000_000.0, 0.3)))
    assert refused[b"x-ratelimit-remaining"] == b"0"
    assert refused[b"x-ratelimit-reset"] == b"1795000000"
    assert refused[b"retry-after"] == b"1"
