"""Who sent a webhook, and when: HMAC-SHA256 signatures with a bounded replay window.

Two schemes, chosen by the signature header:

* **Floodgate** (CI jobs calling us with curl) — headers `X-Floodgate-Signature:
  sha256=<hex>`, `X-Floodgate-Timestamp: <unix seconds>`, `X-Floodgate-Delivery: <id>`. The MAC
  covers `"<delivery>.<timestamp>." + raw body` (the layout of the Standard Webhooks spec), not
  the body alone: an unsigned timestamp or delivery id could be replaced by whoever captured one
  request, which would make the 5-minute window and the replay detection decorative.
* **GitHub** (a repository webhook on `deployment` events) — `X-Hub-Signature-256:
  sha256=<hex>` over the raw body (all GitHub signs), `X-GitHub-Delivery`, `X-GitHub-Event`.
  GitHub sends no timestamp header, so the window is checked against the signed payload's
  `deployment.updated_at` (see `app.control.webhooks.payloads`).

Every configured secret is tried (`CONTROL_WEBHOOK_SECRETS`, for rotation), each compared in
constant time. Any failure is a 401 with the reason; nothing is parsed or started before the
signature holds. With no secret configured the endpoint answers 503 (never runs unsigned).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from app.control.errors import ControlError

SIGNATURE_HEADER = "x-floodgate-signature"
TIMESTAMP_HEADER = "x-floodgate-timestamp"
DELIVERY_HEADER = "x-floodgate-delivery"
GITHUB_SIGNATURE_HEADER = "x-hub-signature-256"
GITHUB_DELIVERY_HEADER = "x-github-delivery"
GITHUB_EVENT_HEADER = "x-github-event"

DELIVERY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
SIGNATURE = re.compile(r"^sha256=[0-9a-fA-F]{64}$")
EVENT = re.compile(r"^[a-z_]{1,64}$")
CHALLENGE = {"WWW-Authenticate": 'HMAC-SHA256 realm="floodgate-webhooks"'}


class WebhookRejected(ControlError):
    """The delivery is not proven to come from a holder of the secret, or is too old: 401."""

    def __init__(self, reason: str) -> None:
        super().__init__(401, f"webhook refused: {reason}", headers=CHALLENGE)


@dataclass(frozen=True)
class VerifiedDelivery:
    scheme: Literal["floodgate", "github"]
    delivery_id: str
    event: str | None = None  # GitHub's event name
    signed_at: int | None = None  # Floodgate scheme: the signed timestamp


def floodgate_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of `"<delivery>.<timestamp>." + body` — what a sender computes."""
    message = f"{delivery_id}.{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def github_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>` of the raw body, as GitHub's `X-Hub-Signature-256`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _matches(presented: str, expected: Sequence[str]) -> bool:
    wanted = presented.lower().encode("ascii")
    matched = False
    for candidate in expected:  # every secret is compared: timing shows nothing
        matched |= hmac.compare_digest(wanted, candidate.encode("ascii"))
    return matched


def _header(headers: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = headers.get(name)
    if value is None:
        raise WebhookRejected(f"missing {name} header")
    value = value.strip()
    if not pattern.fullmatch(value):
        raise WebhookRejected(f"malformed {name} header (expected {pattern.pattern})")
    return value


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[SecretStr],
    *,
    now: float,
    tolerance_seconds: float,
) -> VerifiedDelivery:
    """Check the delivery's signature (and, for the Floodgate scheme, its age)."""
    if not secrets:
        raise ControlError(503, "webhooks are disabled: CONTROL_WEBHOOK_SECRETS is not set")
    keys = [s.get_secret_value() for s in secrets]
    if headers.get(SIGNATURE_HEADER) is not None:
        signature = _header(headers, SIGNATURE_HEADER, SIGNATURE)
        delivery = _header(headers, DELIVERY_HEADER, DELIVERY_ID)
        timestamp = _header(headers, TIMESTAMP_HEADER, TIMESTAMP)
        expected = [floodgate_signature(k, delivery, timestamp, body) for k in keys]
        if not _matches(signature, expected):
            raise WebhookRejected("signature does not match (HMAC-SHA256 of "
                                  "'<delivery>.<timestamp>.<body>' with the shared secret)")
        check_age(int(timestamp), now, tolerance_seconds)
        return VerifiedDelivery("floodgate", delivery, signed_at=int(timestamp))
    if headers.get(GITHUB_SIGNATURE_HEADER) is not None:
        signature = _header(headers, GITHUB_SIGNATURE_HEADER, SIGNATURE)
        delivery = _header(headers, GITHUB_DELIVERY_HEADER, DELIVERY_ID)
        event = _header(headers, GITHUB_EVENT_HEADER, EVENT)
        if not _matches(signature, [github_signature(k, body) for k in keys]):
            raise WebhookRejected("signature does not match (HMAC-SHA256 of the body)")
        return VerifiedDelivery("github", delivery, event=event)
    raise WebhookRejected(
        f"missing signature: send {SIGNATURE_HEADER} (or GitHub's {GITHUB_SIGNATURE_HEADER})"
    )


def check_age(signed_at: float, now: float, tolerance_seconds: float) -> None:
    """Refuse a delivery signed more than `tolerance_seconds` from now, either way."""
    skew = now - signed_at
    if abs(skew) > tolerance_seconds:
        when = f"{skew:.0f} s ago" if skew > 0 else f"{-skew:.0f} s in the future"
        raise WebhookRejected(
            f"signed {when}; deliveries more than {tolerance_seconds:.0f} s from the server's "
            "clock are refused (replay protection) — check the sender's clock"
        )
