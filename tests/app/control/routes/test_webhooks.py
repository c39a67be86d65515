"""POST /webhooks/ci end to end: signed deliveries start runs of deploy/rollout on the real
Prefect server, replays give the same run, anything unsigned or stale starts nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from app.control.webhooks.signatures import floodgate_signature, github_signature
from tests.app.control.conftest import (
    SECRET,
    control_settings,
    read_flow_run,
    runs_for_app,
    save_rollout,
)

pytestmark = pytest.mark.integration


def signed(body: bytes, delivery: str, *, ts: float | None = None,
           secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time() if ts is None else ts))
    return {"Content-Type": "application/json", "X-Floodgate-Delivery": delivery,
            "X-Floodgate-Timestamp": stamp,
            "X-Floodgate-Signature": floodgate_signature(secret, delivery, stamp, body)}


async def deliver(control, body: bytes, headers: dict[str, str]):
    return await control.client.post("/webhooks/ci", content=body, headers=headers)


def payload(app: str, version: str = "v2", **extra) -> bytes:
    return json.dumps({"app": app, "version": version, "strategy": "canary", **extra}).encode()


async def test_signed_delivery_starts_a_rollout_run(control, app_name, floodgate_deployments):
    body = payload(app_name, steps=[25, 100], env={"MODEL": "m2"})
    response = await deliver(control, body, signed(body, "ci-1001"))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["status"], answer["delivery"]) == ("started", "ci-1001")
    run = await read_flow_run(answer["flow_run_id"])
    assert str(run.deployment_id) == floodgate_deployments.ids["deploy/rollout"]
    assert run.parameters == {"spec": json.loads(body), "target": "local"}
    assert run.idempotency_key == "ci-floodgate:ci-1001"


async def test_a_replayed_delivery_returns_the_same_run(control, app_name, floodgate_deployments):
    body = payload(app_name)
    first = await deliver(control, body, signed(body, "ci-2002"))
    replay = await deliver(control, body, signed(body, "ci-2002"))  # re-signed: fresh timestamp
    assert (first.status_code, replay.status_code) == (202, 200)
    assert replay.json()["status"] == "replayed"
    assert replay.json()["flow_run_id"] == first.json()["flow_run_id"]
    assert len(await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name)) == 1


async def test_a_replay_still_answers_after_another_rollout_took_over(control, app_name):
    """The delivery id is looked up before the conflict checks: a replay is never a 409."""
    body = payload(app_name)
    first = await deliver(control, body, signed(body, "ci-3003"))
    save_rollout(control.target, app_name, "v9", "Analysing")
    replay = await deliver(control, body, signed(body, "ci-3003"))
    assert replay.status_code == 200
    assert replay.json()["flow_run_id"] == first.json()["flow_run_id"]


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Floodgate-Signature"}, b),
         "missing signature"),
        (lambda h, b: (h, b.replace(b'"v2"', b'"v3"')), "does not match"),
        (lambda h, b: ({**h, "X-Floodgate-Delivery": "ci-other"}, b), "does not match"),
        (lambda h, b: ({**h, "X-Floodgate-Timestamp": str(int(time.time()))}, b),
         "does not match"),
        (lambda h, b: ({**h, "X-Floodgate-Signature": "sha256=" + "a" * 64}, b),
         "does not match"),
    ],
)
async def test_wrong_or_missing_signature_is_401_and_starts_nothing(
    control, app_name, floodgate_deployments, tamper, reason
):
    body = payload(app_name)
    headers, sent = tamper(signed(body, "ci-4004", ts=time.time() - 10), body)
    response = await deliver(control, sent, headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name) == []


async def test_a_delivery_signed_with_another_secret_is_401(control, app_name):
    body = payload(app_name)
    headers = signed(body, "ci-5005", secret="not-the-secret-0123456789")
    assert (await deliver(control, body, headers)).status_code == 401


async def test_an_old_delivery_is_401_even_when_correctly_signed(
    control, app_name, floodgate_deployments
):
    body = payload(app_name)
    response = await deliver(control, body, signed(body, "ci-6006", ts=time.time() - 301))
    assert response.status_code == 401
    assert "replay protection" in response.json()["detail"]
    assert await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name) == []


async def test_the_webhook_needs_no_bearer_token_and_a_token_is_no_signature(control, app_name):
    body = payload(app_name)
    response = await control.post("/webhooks/ci", content=body)  # bearer token, no signature
    assert response.status_code == 401


async def test_signature_is_checked_before_anything_else(start_control, memory_target, app_name):
    """With no Prefect configured an unsigned delivery still gets 401, not a 503 that would
    tell an anonymous caller about the server's state."""
    control = await start_control(control_settings(prefect_api_url=None), memory_target)
    response = await deliver(control, payload(app_name), {"Content-Type": "application/json"})
    assert response.status_code == 401


async def test_no_secret_configured_is_503(start_control, memory_target, app_name):
    control = await start_control(control_settings(control_webhook_secrets=[]), memory_target)
    body = payload(app_name)
    response = await deliver(control, body, signed(body, "ci-7007"))
    assert response.status_code == 503
    assert "CONTROL_WEBHOOK_SECRETS" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"not json", 400, "not valid JSON"),
        (b"[]", 400, "JSON object"),
        (b'{"app": "x", "version": NaN}', 400, "not valid JSON"),
        (b'{"app": "Bad App", "version": "v2"}', 422, "pattern"),
        (b'{"app": "fraud-x", "version": "v2", "steps": [90, 50]}', 422, "increase"),
    ],
)
async def test_bad_bodies_are_4xx_with_the_reason(control, body, status, words):
    response = await deliver(control, body, signed(body, "ci-8008"))
    assert response.status_code == status
    assert words in json.dumps(response.json())


async def test_unknown_app_in_a_webhook_is_404_listing_known_apps(control, app_name):
    body = payload("ghost")
    response = await deliver(control, body, signed(body, "ci-9009"))
    assert response.status_code == 404
    assert app_name in response.json()["known_apps"]


def github_event(app: str, ref: str, *, updated_at: datetime | None = None) -> bytes:
    stamp = (updated_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({
        "action": "created",
        "deployment": {"id": 1, "sha": "b" * 40, "ref": ref, "task": "deploy",
                       "environment": app, "payload": {"strategy": "blue-green"},
                       "created_at": stamp, "updated_at": stamp},
        "repository": {"full_name": "acme/fraud-api"},
    }).encode()


def github_headers(body: bytes, event: str = "deployment",
                   delivery: str = "5c3d2c8e-0000-11ef-8000-000000000001") -> dict[str, str]:
    return {"Content-Type": "application/json", "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": github_signature(SECRET, body)}


async def test_github_deployment_event_starts_a_rollout_and_replays_to_it(
    control, app_name, floodgate_deployments
):
    body = github_event(app_name, "refs/tags/v2")
    first = await deliver(control, body, github_headers(body))
    assert first.status_code == 202, first.text
    run = await read_flow_run(first.json()["flow_run_id"])
    assert run.parameters["spec"] == {"app": app_name, "version": "v2",
                                      "strategy": "blue-green"}
    replay = await deliver(control, body, github_headers(body))
    assert replay.status_code == 200
    assert replay.json()["flow_run_id"] == first.json()["flow_run_id"]


async def test_github_ping_and_other_events_start_nothing(control, app_name):
    ping = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    response = await deliver(control, ping, github_headers(ping, "ping"))
    assert (response.status_code, response.json()["status"]) == (200, "pong")
    push = b'{"ref": "refs/heads/main"}'
    response = await deliver(control, push, github_headers(push, "push"))
    assert (response.status_code, response.json()["status"]) == (200, "ignored")


async def test_github_stale_or_badly_signed_events_are_401(
    control, app_name, floodgate_deployments
):
    stale = github_event(app_name, "v2", updated_at=datetime.fromtimestamp(time.time() - 600, UTC))
    assert (await deliver(control, stale, github_headers(stale))).status_code == 401
    fresh = github_event(app_name, "v2")
    headers = github_headers(fresh)
    headers["X-Hub-Signature-256"] = github_signature("wrong-secret-0123456789", fresh)
    assert (await deliver(control, fresh, headers)).status_code == 401
    assert await runs_for_app(floodgate_deployments.ids["deploy/rollout"], app_name) == []
