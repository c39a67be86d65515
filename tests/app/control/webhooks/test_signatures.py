"""Webhook signatures: both schemes, tampering, the replay window, secret rotation, and the
documented openssl recipe computing the same MAC."""

from __future__ import annotations

import subprocess

import pytest
from pydantic import SecretStr

from app.control.errors import ControlError
from app.control.webhooks.signatures import (
    WebhookRejected,
    floodgate_signature,
    github_signature,
    verify,
)

SECRET = "webhook-secret-0123456789abcdef"
SECRETS = [SecretStr(SECRET)]
NOW = 1_750_000_000.0
BODY = b'{"app":"fraud","version":"v2"}'


def signed(body: bytes = BODY, *, secret: str = SECRET, delivery: str = "d-1",
           ts: float = NOW) -> dict[str, str]:
    stamp = str(int(ts))
    return {"x-floodgate-delivery": delivery, "x-floodgate-timestamp": stamp,
            "x-floodgate-signature": floodgate_signature(secret, delivery, stamp, body)}


def check(headers: dict[str, str], body: bytes = BODY, secrets=SECRETS, tolerance: float = 300):
    return verify(headers, body, secrets, now=NOW, tolerance_seconds=tolerance)


def test_a_signed_delivery_is_accepted():
    delivery = check(signed())
    assert (delivery.scheme, delivery.delivery_id, delivery.signed_at) == ("floodgate", "d-1",
                                                                           int(NOW))


def test_the_documented_openssl_recipe_computes_the_same_signature():
    script = ("printf '%s.%s.%s' \"$ID\" \"$TS\" \"$BODY\" "
              "| openssl dgst -sha256 -hmac \"$SECRET\" -r | cut -d' ' -f1")
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True,
        env={"ID": "d-1", "TS": "1750000000", "BODY": BODY.decode(), "SECRET": SECRET,
             "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert f"sha256={out}" == floodgate_signature(SECRET, "d-1", "1750000000", BODY)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: h.pop("x-floodgate-delivery"), "missing x-floodgate-delivery"),
        (lambda h: h.pop("x-floodgate-timestamp"), "missing x-floodgate-timestamp"),
        (lambda h: h.update({"x-floodgate-delivery": "d-2"}), "does not match"),
        (lambda h: h.update({"x-floodgate-timestamp": str(int(NOW) + 1)}), "does not match"),
        (lambda h: h.update({"x-floodgate-timestamp": "soon"}), "malformed"),
        (lambda h: h.update({"x-floodgate-delivery": "a b"}), "malformed"),
        (lambda h: h.update({"x-floodgate-signature": "sha1=abc"}), "malformed"),
        (lambda h: h.update({"x-floodgate-signature": "sha256=" + "0" * 64}), "does not match"),
    ],
)
def test_tampered_or_incomplete_headers_are_401(change, reason):
    headers = signed()
    change(headers)
    with pytest.raises(WebhookRejected) as caught:
        check(headers)
    assert caught.value.status == 401
    assert reason in str(caught.value)


def test_a_changed_body_or_another_secret_is_401():
    with pytest.raises(WebhookRejected, match="does not match"):
        check(signed(), body=BODY.replace(b"v2", b"v3"))
    with pytest.raises(WebhookRejected, match="does not match"):
        check(signed(secret="another-secret-0123456789"))


def test_uppercase_hex_is_the_same_signature():
    headers = signed()
    headers["x-floodgate-signature"] = "sha256=" + headers["x-floodgate-signature"][7:].upper()
    assert check(headers).delivery_id == "d-1"


@pytest.mark.parametrize(("age", "ok"), [(299, True), (-299, True), (301, False), (-301, False)])
def test_replay_window_is_five_minutes_either_way(age, ok):
    headers = signed(ts=NOW - age)
    if ok:
        check(headers)
    else:
        with pytest.raises(WebhookRejected, match="replay protection"):
            check(headers)


def test_every_configured_secret_is_tried_for_rotation():
    rotated = [SecretStr("old-secret-0123456789abc"), SecretStr(SECRET)]
    assert check(signed(), secrets=rotated).delivery_id == "d-1"


def test_no_secret_configured_refuses_everything_with_503():
    with pytest.raises(ControlError) as caught:
        check(signed(), secrets=[])
    assert caught.value.status == 503


def test_no_signature_header_at_all_is_401():
    with pytest.raises(WebhookRejected, match="missing signature"):
        check({"x-floodgate-delivery": "d-1"})


def github(body: bytes = BODY, event: str = "deployment", secret: str = SECRET) -> dict[str, str]:
    return {"x-hub-signature-256": github_signature(secret, body), "x-github-event": event,
            "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}


def test_github_scheme_signs_the_body_alone():
    delivery = check(github())
    assert (delivery.scheme, delivery.event) == ("github", "deployment")
    assert delivery.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    with pytest.raises(WebhookRejected, match="does not match"):
        check(github(), body=BODY + b" ")
    headers = github()
    del headers["x-github-event"]
    with pytest.raises(WebhookRejected, match="missing x-github-event"):
        check(headers)
