"""Webhook bodies → `RolloutRequest`: the generic CI payload and GitHub's `deployment` event.

Generic (Floodgate scheme): the body is the request itself —
`{"app": "fraud-api", "version": "v2", "strategy": "canary", "steps": [10, 50, 100],
"env": {...}}`, plus any other `RolloutSpec` field.

GitHub `deployment` event (a repository webhook, or `gh api repos/O/R/deployments`): the
deployment's `payload` object holds the request fields; what it lacks comes from the deployment
itself — `app` from `deployment.environment` (name the GitHub environment after the app), and
`version` from `deployment.ref` (a tag such as `v2`; `refs/tags/` is stripped). Only
`action: created` starts anything. The replay window is checked against the signed
`deployment.updated_at`, since GitHub sends no timestamp header.

Bad bodies are the sender's 4xx, never a 500: not JSON / not an object / NaN → 400; a field
wrong → 422 naming it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from app.control.errors import ControlError, field_error
from app.control.models import RolloutRequest
from app.control.webhooks.signatures import WebhookRejected, check_age

REF_PREFIXES = ("refs/tags/", "refs/heads/")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; 400 with the reason otherwise."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise ControlError(400, "body is not usable JSON: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ControlError(400, f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ControlError(400, f"body must be a JSON object, got {type(data).__name__}")
    return data


def validated(fields: dict[str, Any], loc: tuple[str, ...] = ("body",)) -> RolloutRequest:
    """A `RolloutRequest`, or 422 listing every wrong field and why."""
    try:
        return RolloutRequest.model_validate(fields)
    except ValidationError as error:
        raise ControlError(422, [
            field_error((*loc, *e["loc"]), e["msg"], e["type"]) for e in error.errors()
        ]) from None  # fmt: skip


def generic_request(data: dict[str, Any]) -> RolloutRequest:
    return validated(data)


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def _deployment_payload(deployment: dict[str, Any]) -> dict[str, Any]:
    """GitHub keeps `payload` as given: an object, a JSON string, or ""."""
    payload = deployment.get("payload")
    if isinstance(payload, str) and payload.strip():
        try:
            payload = json.loads(payload, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise ControlError(422, [field_error(("body", "deployment", "payload"),
                                                 "payload is a string but not JSON",
                                                 "json_invalid")]) from None
    if payload in (None, ""):
        return {}
    if not isinstance(payload, dict):
        raise ControlError(422, [field_error(("body", "deployment", "payload"),
                                             "payload must be a JSON object", "dict_type")])
    return dict(payload)


def github_deployment_request(
    data: dict[str, Any], *, now: float, tolerance_seconds: float
) -> RolloutRequest | None:
    """The rollout a `deployment` event asks for; None for an action that starts nothing."""
    deployment = data.get("deployment")
    if not isinstance(deployment, dict):
        raise ControlError(422, [field_error(("body", "deployment"),
                                             "a deployment event needs a deployment object",
                                             "missing")])
    signed_at = _timestamp(deployment.get("updated_at")) or _timestamp(
        deployment.get("created_at")
    )
    if signed_at is None:
        raise WebhookRejected("the deployment event has no updated_at/created_at timestamp "
                              "to bound replays with")
    check_age(signed_at, now, tolerance_seconds)
    if data.get("action", "created") != "created":
        return None
    fields = _deployment_payload(deployment)
    if "app" not in fields and deployment.get("environment") is not None:
        fields["app"] = deployment["environment"]
    ref = deployment.get("ref")
    if "version" not in fields and isinstance(ref, str):
        fields["version"] = next(
            (ref.removeprefix(p) for p in REF_PREFIXES if ref.startswith(p)), ref
        )
    return validated(fields, ("body", "deployment", "payload"))
