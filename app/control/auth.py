"""Bearer-token authentication of the operator endpoints (`/rollouts`, `/apps`).

`Authorization: Bearer <token>`, compared in constant time against every configured token
(`CONTROL_API_TOKENS`; several allow rotation without downtime). Each comparison is over SHA-256
digests, so its time depends neither on where the strings differ nor on their lengths, and every
token is compared, so which one matched does not show either.

Fail-safe: with no token configured the endpoints answer 503 — a control plane that can start
and abort production rollouts never runs open by omission.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from fastapi import Request
from pydantic import SecretStr

from app.config import Settings
from app.control.errors import ControlError

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="floodgate"'}


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def token_matches(presented: str, tokens: Iterable[SecretStr]) -> bool:
    """True if `presented` equals one of `tokens`; constant time in what is compared."""
    presented_digest = _digest(presented)
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(presented_digest, _digest(token.get_secret_value()))
    return matched


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def require_operator(request: Request) -> None:
    """Dependency of every operator route: 401 without a valid token, 503 with none set."""
    settings: Settings = request.app.state.settings
    if not settings.control_api_tokens:
        raise ControlError(
            503, "the control API has no tokens configured (CONTROL_API_TOKENS); refusing all "
            "operator requests",
        )
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise ControlError(401, "missing bearer token: send 'Authorization: Bearer <token>'",
                           headers=CHALLENGE)
    if not token_matches(token, settings.control_api_tokens):
        raise ControlError(401, "invalid bearer token", headers=CHALLENGE)
