"""Bearer tokens: parsing and the constant-time match (the endpoints are in routes/)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from app.control.auth import bearer_token, token_matches

TOKENS = [SecretStr("first-token-0123456789"), SecretStr("second-token-0123456789")]


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("BEARER abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
        ("abc", None),
    ],
)
def test_bearer_token(header, token):
    assert bearer_token(header) == token


def test_any_configured_token_matches_and_nothing_else():
    assert token_matches("first-token-0123456789", TOKENS)
    assert token_matches("second-token-0123456789", TOKENS)
    assert not token_matches("first-token-012345678", TOKENS)  # a prefix
    assert not token_matches("first-token-0123456789x", TOKENS)
    assert not token_matches("", TOKENS)
    assert not token_matches("first-token-0123456789", [])
    assert not token_matches("\udcff\x00é", TOKENS)  # odd input is just a mismatch
