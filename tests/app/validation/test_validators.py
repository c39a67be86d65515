"""E-mail, URL and phone format checks."""

from __future__ import annotations

import pytest

from app.validation.validators import is_valid_email, is_valid_phone, is_valid_url, to_ascii_domain


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("jane.doe+news@example.com", True),
        ("o'brien@example.ie", True),
        ("user@bücher.example", True),
        ("a@localhost", False),
        ("a@@example.com", False),
        ("a..b@example.com", False),
        (".a@example.com", False),
        ("a@-example.com", False),
        ("x" * 65 + "@example.com", False),
        ("a@" + "b" * 250 + ".com", False),
        ("<script>@example.com", False),
    ],
)
def test_email(value: str, valid: bool) -> None:
    assert is_valid_email(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("https://example.com/path?q=1#frag", True),
        ("http://bücher.example:8080/", True),
        ("http://[::1]:8000/health", True),
        ("javascript:alert(1)", False),
        ("ftp://example.com/file", False),
        ("https://", False),
        ("http://exa mple.com", False),
        ("http://example.com:99999/", False),
        ("http://example.com:0/", False),
        ("https://example.com/\n", False),
        ("//example.com", False),
    ],
)
def test_url(value: str, valid: bool) -> None:
    assert is_valid_url(value) is valid


def test_url_schemes_can_be_widened() -> None:
    assert is_valid_url("ftp://example.com/file", schemes=frozenset({"ftp"}))


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("+1 (555) 010-0199", True),
        ("+44 20 7946 0958", True),
        ("+4915112345678", True),
        ("555-0100", False),
        ("+0 123 456 789", False),
        ("+1 555 0100 0100 0100 01", False),
        ("+1 555 010 0199 ext 2", False),
    ],
)
def test_phone(value: str, valid: bool) -> None:
    assert is_valid_phone(value) is valid


def test_domains_normalise_case_trailing_dot_and_unicode() -> None:
    assert to_ascii_domain("Example.COM.") == "example.com"
    assert to_ascii_domain("bücher.example") == "xn--bcher-kva.example"
    assert to_ascii_domain("a_b.example") is None
    assert to_ascii_domain("") is None
