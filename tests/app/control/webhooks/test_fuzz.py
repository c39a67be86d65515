"""Hypothesis: malformed webhook bodies and headers never get a 5xx, signed or not.

Driven through raw ASGI so headers can hold any bytes. A share of the examples is signed
correctly (both schemes), so the payload parsing and the rollout checks behind the signature are
fuzzed too, with the real Prefect server answering (runs the fuzzer's valid payloads create are
just scheduled runs).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.control.deps import get_target
from app.control.main import create_control_app
from app.control.webhooks.signatures import floodgate_signature, github_signature
from tests.app.control.conftest import SECRET, control_settings
from tests.support.memory_target import MemoryApp, MemoryTarget

pytestmark = pytest.mark.integration
APP = f"fuzz-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def started(floodgate_deployments) -> Iterator[tuple[FastAPI, asyncio.AbstractEventLoop]]:
    app = create_control_app(control_settings(prefect_api_url=floodgate_deployments.api_url))
    target = MemoryTarget([MemoryApp(APP, "v1")])
    app.dependency_overrides[get_target] = lambda: target
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    yield app, loop
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    loop.close()


async def call(app: FastAPI, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """One POST /webhooks/ci; 599 if the app raised instead of answering."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/webhooks/ci",
             "raw_path": b"/webhooks/ci", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 5000), "server": ("fuzz", 80)}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    try:
        await app(scope, receive, send)
    except Exception:
        return 599
    return status[0] if status else 599


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
field_values = st.one_of(
    json_values, st.sampled_from([APP, "payments", "v2", "v1", "canary", "blue-green", "rolling"])
)
payloads = st.dictionaries(
    st.sampled_from(["app", "version", "strategy", "steps", "env", "replicas", "health",
                     "analysis", "target", "\ud800", ""]),
    field_values, max_size=6,
)
github_events = st.fixed_dictionaries({
    "action": st.sampled_from(["created", "deleted"]) | json_values,
    "deployment": st.fixed_dictionaries({
        "environment": field_values, "ref": field_values,
        "payload": payloads | json_values | payloads.map(json.dumps),
        "updated_at": st.just("NOW") | json_values,
    }) | json_values,
})  # fmt: skip
plausible = st.fixed_dictionaries(
    {"app": st.sampled_from([APP, "payments", "ghost"]),
     "version": st.from_regex(r"v[0-9]{1,3}", fullmatch=True) | st.text(max_size=8),
     "strategy": st.sampled_from(["canary", "blue-green", "rolling", "big-bang"])},
    optional={"steps": st.lists(st.integers(-5, 120), max_size=5),
              "env": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
              "replicas": json_values, "health": json_values},
)  # fmt: skip
bodies = st.one_of(
    plausible.map(lambda v: json.dumps(v).encode()),
    plausible.map(lambda v: json.dumps({"action": "created", "deployment": {
        "environment": v["app"], "ref": v["version"], "payload": v, "updated_at": "NOW"}})
        .encode()),
    st.binary(max_size=1000),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    payloads.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    github_events.map(lambda v: json.dumps(v, allow_nan=True).encode()),
)
raw_header = st.binary(max_size=120)
header_names = st.sampled_from([b"x-floodgate-signature", b"x-floodgate-timestamp",
                                b"x-floodgate-delivery", b"x-hub-signature-256",
                                b"x-github-event", b"x-github-delivery", b"content-type"])
signing = st.sampled_from(["floodgate", "floodgate", "github", "none"])
deliveries = st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True),
                       st.text(max_size=30))
events = st.sampled_from(["deployment", "ping", "push"]) | st.text(max_size=10)


def sign(scheme: str, body: bytes, delivery: str, event: str) -> list[tuple[bytes, bytes]]:
    ascii_delivery = delivery.encode("latin-1", "replace")
    if scheme == "floodgate":
        stamp = str(int(time.time()))
        signature = floodgate_signature(SECRET, delivery, stamp, body)
        return [(b"x-floodgate-delivery", ascii_delivery), (b"x-floodgate-timestamp",
                stamp.encode()), (b"x-floodgate-signature", signature.encode())]
    if scheme == "github":
        return [(b"x-hub-signature-256", github_signature(SECRET, body).encode()),
                (b"x-github-delivery", ascii_delivery),
                (b"x-github-event", event.encode("latin-1", "replace"))]
    return []


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies, scheme=signing, delivery=deliveries, event=events,
       noise=st.lists(st.tuples(header_names, raw_header), max_size=4), noise_first=st.booleans())
def test_webhook_never_answers_5xx(started, body, scheme, delivery, event, noise, noise_first):
    app, loop = started
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).encode()
    body = body.replace(b'"NOW"', b'"' + stamp + b'"')
    signed = sign(scheme, body, delivery, event)  # the first of repeated headers counts
    headers = [*noise, *signed] if noise_first else [*signed, *noise]
    headers.append((b"content-type", b"application/json"))
    status = loop.run_until_complete(call(app, headers, body))
    assert status < 500, (scheme, headers, body[:300])


def test_the_driver_does_see_a_signed_delivery_through(started):
    """Guard against a fuzzer that only ever meets the signature check."""
    app, loop = started
    body = json.dumps({"app": APP, "version": f"v{uuid.uuid4().hex[:6]}"}).encode()
    headers = sign("floodgate", body, f"guard-{uuid.uuid4().hex}", "")
    assert loop.run_until_complete(call(app, headers, body)) in (200, 202, 409)
