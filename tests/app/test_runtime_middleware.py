"""RuntimeMiddleware: the four runtime middlewares' work in one layer, with the same answers.

Every scenario runs the same requests through two apps: one with `install_middleware` (the one
layer) and one with the four middlewares stacked as before. Statuses, bodies, header names and
values (the request id and the reset second aside, which differ by design) and the exported
request metrics must match.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from app.api.errors import unhandled_exception_handler
from app.config import RedisFailureMode, Settings
from app.main import install_middleware, install_separate_middleware
from app.monitoring.correlation import current_request_id
from app.monitoring.metrics import MetricsCollector
from app.rate_limiting import build_rate_limiter
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.runtime_middleware import RuntimeMiddleware

Request = dict[str, Any]  # method, path, query, headers, body (raw ASGI: any bytes at all)
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

logger = logging.getLogger("tests.runtime")


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"app_name": "fraud", "app_version": "v3",
                              "configure_logging": False, "rate_limit_requests": 5,
                              "max_body_bytes": 1024}
    return Settings(**{**values, **overrides})


class Payment(BaseModel):
    amount: float


def service() -> FastAPI:
    app = FastAPI()
    app.add_exception_handler(Exception, unhandled_exception_handler)  # as create_app does

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, Any]:
        logger.info("serving item %s", item_id)
        return {"item": item_id, "request_id": current_request_id()}

    @app.get("/search")
    async def search(q: str) -> dict[str, str]:
        return {"q": q}

    @app.post("/payments")
    async def pay(payment: Payment) -> dict[str, float]:
        return {"amount": payment.amount}

    @app.get("/own-id")
    async def own_id() -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse({"ok": True}, headers={"X-Request-ID": "set-by-the-app"})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("handler bug")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


Built = tuple[FastAPI, MetricsCollector, TokenBucketRateLimiter]


def built(config: Settings, install: Callable[..., None]) -> Built:
    """The service with the runtime installed by `install` (one layer or four stacked)."""
    app = service()
    collector = MetricsCollector(config.app_name, config.app_version)
    limiter = build_rate_limiter(config, registry=collector.registry)
    install(app, config, collector, limiter)
    return app, collector, limiter


def one_layer(config: Settings) -> Built:
    return built(config, install_middleware)


def four_layers(config: Settings) -> Built:
    return built(config, install_separate_middleware)


async def call(app: Any, request: Request) -> Answer:
    """One request through the raw ASGI interface (malformed framing included)."""
    body: bytes = request.get("body", b"")
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1"))
               for k, v in request.get("headers", {}).items()]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": request.get("method", "GET"), "scheme": "http", "path": request["path"],
        "raw_path": request["path"].encode(), "query_string": request.get("query", b""),
        "root_path": "", "client": ("203.0.113.7", 50000), "server": ("t", 80),
        "headers": headers,
    }
    chunks = [{"type": "http.request", "body": body, "more_body": False}]
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"], answer["headers"] = message["status"], list(message["headers"])
        else:
            answer["body"] += message.get("body", b"")

    # A handler's RuntimeError: the 500 was sent by Starlette's ServerErrorMiddleware, which
    # then re-raises it to the server.
    with contextlib.suppress(RuntimeError):
        await app(scope, receive, send)
    return answer["status"], answer["headers"], answer["body"]


def comparable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Headers with the values that differ by design (a fresh id, the reset second) masked."""
    masked = {b"x-ratelimit-reset"}
    out = []
    for name, value in headers:
        if name in masked or (name == b"x-request-id" and len(value) == 32):
            value = b"*"
        out.append((name, value))
    return out


def masked_body(answer: Answer) -> bytes:
    """The body with the answer's own request id masked (the handler may echo it)."""
    request_id = dict(answer[1]).get(b"x-request-id", b"")
    return answer[2].replace(request_id, b"*") if request_id else answer[2]


def request_lines(collector: MetricsCollector) -> list[str]:
    from prometheus_client import generate_latest

    text = generate_latest(collector.registry).decode()
    wanted = ("http_requests_total{", "floodgate_suspicious_inputs_total{",
              "floodgate_rate_limit_checks_total{", "unhandled_exceptions_total{")
    return sorted(line for line in text.splitlines() if line.startswith(wanted))


SCENARIOS: dict[str, list[Request]] = {
    "admitted GET, then over the limit": [{"path": "/items/7"}] * 7,
    "caller's request id echoed, malformed one replaced": [
        {"path": "/items/1", "headers": {"X-Request-ID": "trace:42"}},
        {"path": "/items/1", "headers": {"X-Request-ID": "bad id\twith tab"}},
    ],
    "app's own request id header replaced": [
        {"path": "/own-id", "headers": {"X-Request-ID": "mine-1"}}
    ],
    "injection in the query refused": [
        {"path": "/search", "query": b"q=1%27%20OR%20%271%27%3D%271%27%20--"},
        {"path": "/search", "query": b"q=card%20present"},
    ],
    "JSON bodies: good, injected, too large, malformed framing, bad JSON": [
        {"method": "POST", "path": "/payments", "body": b'{"amount": 12.5}',
         "headers": {"content-type": "application/json", "content-length": "16"}},
        {"method": "POST", "path": "/payments",
         "body": b'{"amount": 1, "note": "<script>alert(1)</script>"}',
         "headers": {"content-type": "application/json"}},
        {"method": "POST", "path": "/payments", "body": b"x" * 2000,
         "headers": {"content-type": "application/json", "content-length": "2000"}},
        {"method": "POST", "path": "/payments", "body": b"{}",
         "headers": {"content-type": "application/json", "content-length": "two"}},
        {"method": "POST", "path": "/payments", "body": b"{not json",
         "headers": {"content-type": "application/json"}},
    ],
    "unknown route, unhandled exception": [{"path": "/nowhere"}, {"path": "/boom"}],
    "probes are neither limited nor screened": [
        {"path": "/health", "query": b"q=%3Cscript%3E"}
    ] * 8,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_one_layer_answers_as_the_four_stacked(name: str) -> None:
    config = settings()
    apps = [one_layer(config), four_layers(config)]
    answers: list[list[Answer]] = [[], []]
    for request in SCENARIOS[name]:
        for index, (app, _, _) in enumerate(apps):
            answers[index].append(await call(app, request))
    fused, stacked = answers
    assert [a[0] for a in fused] == [a[0] for a in stacked]
    assert [masked_body(a) for a in fused] == [masked_body(a) for a in stacked]
    assert [comparable(a[1]) for a in fused] == [comparable(a[1]) for a in stacked]
    assert request_lines(apps[0][1]) == request_lines(apps[1][1])
    assert apps[0][2].in_flight is not None
    assert apps[0][2].in_flight.current == 0


async def test_each_scenario_shows_what_it_names() -> None:
    """The comparison above must not pass by both stacks doing nothing: spot-check one layer."""
    app, collector, _ = one_layer(settings())
    statuses = [(await call(app, {"path": "/items/7"}))[0] for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    app, collector, _ = one_layer(settings(rate_limit_requests=100))
    status, headers, _ = await call(app, {"path": "/search", "query": b"q=1%27%20OR%20%271%27"
                                                                       b"%3D%271%27%20--"})
    names = dict(headers)
    assert status == 400
    assert b"x-ratelimit-limit" in names
    assert b"x-request-id" in names
    status, headers, _ = await call(app, {"path": "/own-id", "headers": {"X-Request-ID": "m-1"}})
    assert [v for k, v in headers if k == b"x-request-id"] == [b"m-1"]
    status, headers, _body = await call(app, {"path": "/boom"})
    assert status == 500
    assert b"x-request-id" in dict(headers)
    assert any('status="500"' in line for line in request_lines(collector))
    assert any("RuntimeError" in line for line in request_lines(collector))


async def test_the_request_id_is_in_the_handler_and_its_log_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _, _ = one_layer(settings())
    with caplog.at_level(logging.INFO, logger="tests.runtime"):
        status, headers, body = await call(app, {"path": "/items/3"})
    request_id = dict(headers)[b"x-request-id"].decode()
    assert status == 200
    assert f'"request_id":"{request_id}"' in body.decode()
    assert current_request_id() is None  # reset once the request is over


async def test_a_limiter_with_io_is_awaited_and_fails_closed_with_503() -> None:
    """The Redis store is not in process: the layer awaits `check`; nothing listens on port 1,
    so with REDIS_FAILURE_MODE=closed every limited request gets 503 with Retry-After."""
    config = settings(redis_url="redis://127.0.0.1:1/0",
                      redis_failure_mode=RedisFailureMode.CLOSED, redis_timeout_seconds=0.2)
    app, _collector, limiter = one_layer(config)
    assert not limiter.answers_in_process
    status, headers, body = await call(app, {"path": "/items/1"})
    names = dict(headers)
    assert status == 503
    assert b"retry-after" in names
    assert b"x-request-id" in names
    assert b"rate_limiter_unavailable" in body
    assert (await call(app, {"path": "/health"}))[0] == 200  # probes never ask the limiter
    await limiter.aclose()


async def test_a_failing_key_function_shares_the_fallback_bucket() -> None:
    app = service()
    config = settings()
    collector = MetricsCollector("fraud", "v3")
    limiter = build_rate_limiter(config, registry=collector.registry)

    def broken(scope: Any) -> str:
        raise KeyError("no client")

    app.add_middleware(RuntimeMiddleware, settings=config, collector=collector, limiter=limiter,
                       key_func=broken)
    statuses = [(await call(app, {"path": "/items/1"}))[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]


async def test_switched_off_parts_do_nothing() -> None:
    config = settings(prometheus_metrics_enabled=False)
    app = service()
    collector = MetricsCollector("fraud", "v3")
    app.add_middleware(RuntimeMiddleware, settings=config, collector=collector)
    statuses = [(await call(app, {"path": "/items/1"}))[0] for _ in range(8)]
    _status, headers, _ = await call(app, {"path": "/items/1"})
    assert statuses == [200] * 8  # no limiter: never refused, no rate-limit headers
    assert b"x-ratelimit-limit" not in dict(headers)
    assert b"x-request-id" in dict(headers)
    assert not any(line.startswith("http_requests_total{") for line in request_lines(collector))


def test_a_limiter_needs_a_key_function() -> None:
    config = settings()
    limiter = build_rate_limiter(config)
    with pytest.raises(ValueError, match="key_func"):
        RuntimeMiddleware(service(), settings=config, collector=MetricsCollector("a", "b"),
                          limiter=limiter)


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
async def test_non_http_scopes_pass_straight_through(scope_type: str) -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def unused(*_: Any) -> Any:
        raise AssertionError("a passed-through scope is not ours to receive or send on")

    layer = RuntimeMiddleware(inner, settings=settings(), collector=MetricsCollector("a", "b"))
    await layer({"type": scope_type}, unused, unused)
    assert seen == [scope_type]
