"""Webhook bodies: the generic payload, GitHub's deployment event, and bad bodies as 4xx."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.control.errors import ControlError
from app.control.models import RolloutRequest
from app.control.webhooks.payloads import (
    generic_request,
    github_deployment_request,
    parse_object,
)
from app.control.webhooks.signatures import WebhookRejected

NOW = 1_750_000_000.0
STAMP = "2025-06-15T15:06:40Z"  # NOW as GitHub writes it


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b'{"app": NaN}', "not valid JSON"),
        (b'{"x": Infinity}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bodies_that_are_not_json_objects_are_400(body, reason):
    with pytest.raises(ControlError) as caught:
        parse_object(body)
    assert caught.value.status == 400
    assert reason in str(caught.value)


def test_generic_payload_errors_name_each_field():
    with pytest.raises(ControlError) as caught:
        generic_request({"app": "Bad App", "version": "", "strategy": "big-bang"})
    assert caught.value.status == 422
    assert isinstance(caught.value.detail, list)
    fields = {tuple(e["loc"]) for e in caught.value.detail}
    assert fields == {("body", "app"), ("body", "version"), ("body", "strategy")}


def event(payload: object = "", **deployment: Any) -> dict[str, Any]:
    return {"action": "created", "deployment": {
        "id": 1, "sha": "a" * 40, "ref": "v2", "environment": "fraud-api", "payload": payload,
        "created_at": STAMP, "updated_at": STAMP, **deployment}}


def github(data: dict[str, Any], now: float = NOW) -> RolloutRequest | None:
    return github_deployment_request(data, now=now, tolerance_seconds=300)


def test_github_deployment_maps_environment_and_ref():
    request = github(event())
    assert request is not None
    assert request.spec() == {"app": "fraud-api", "version": "v2", "strategy": "canary"}


def test_github_payload_object_or_json_string_wins_over_environment_and_ref():
    for payload in ({"app": "payments", "version": "v9", "strategy": "blue-green"},
                    json.dumps({"app": "payments", "version": "v9", "strategy": "blue-green"})):
        request = github(event(payload))
        assert request is not None
        assert (request.app, request.version, request.strategy.value) == (
            "payments", "v9", "blue-green")


def test_github_tag_refs_lose_their_prefix():
    request = github(event(ref="refs/tags/2.4.1"))
    assert request is not None
    assert request.version == "2.4.1"


def test_github_event_outside_the_window_is_401():
    with pytest.raises(WebhookRejected, match="replay protection"):
        github(event(), now=NOW + 301)
    with pytest.raises(WebhookRejected, match="no updated_at"):
        github(event(created_at=None, updated_at="yesterday"))


def test_github_other_actions_start_nothing():
    assert github({**event(), "action": "deleted"}) is None


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"action": "created"}, ["body", "deployment"]),
        (event(payload="{nope"), ["body", "deployment", "payload"]),
        (event(payload=[1]), ["body", "deployment", "payload"]),
        (event(environment="Production!"), ["body", "deployment", "payload", "app"]),
        (event(ref="refs/heads/feature/x"), ["body", "deployment", "payload", "version"]),
    ],
)
def test_github_payload_errors_are_422_with_the_field(data, loc):
    with pytest.raises(ControlError) as caught:
        github(data)
    assert caught.value.status == 422
    assert isinstance(caught.value.detail, list)
    assert caught.value.detail[0]["loc"] == loc
