"""SecurityRuleValidator: blocked domains, uploads by content, batch size."""

from __future__ import annotations

import pytest

from app.validation.errors import InvalidInput
from app.validation.security_rules import SecurityRuleValidator

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n%...\n"


@pytest.fixture
def rules() -> SecurityRuleValidator:
    return SecurityRuleValidator(
        blocked_domains=["evil.example", "bücher.example"], max_batch_items=1000
    )


@pytest.mark.parametrize(
    "value",
    [
        "evil.example",
        "EVIL.Example",
        "evil.example.",
        "mail.evil.example",
        "a.b.evil.example",
        "https://login.evil.example:8443/path",
        "someone@evil.example",
        "xn--bcher-kva.example",
        "shop.BÜCHER.example",
        "not a domain!",
    ],
)
def test_blocked(rules: SecurityRuleValidator, value: str) -> None:
    assert rules.is_blocked_domain(value)


@pytest.mark.parametrize(
    "value",
    ["example.com", "notevil.example", "evil.example.com", "https://good.example/evil.example"],
)
def test_not_blocked(rules: SecurityRuleValidator, value: str) -> None:
    assert not rules.is_blocked_domain(value)


def test_check_domain_names_the_field(rules: SecurityRuleValidator) -> None:
    with pytest.raises(InvalidInput) as error:
        rules.check_domain("callback_url", "https://x.evil.example/")
    assert error.value.field == "callback_url"


def test_invalid_blocked_domain_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="not a valid domain"):
        SecurityRuleValidator(blocked_domains=["bad domain"])


def test_real_png_is_accepted(rules: SecurityRuleValidator) -> None:
    assert rules.check_upload("scan.png", "image/png", PNG) == "image/png"
    assert (
        rules.check_upload("report.PDF", "application/pdf; charset=binary", PDF)
        == "application/pdf"
    )
    assert rules.check_upload("scan.png", None, PNG) == "image/png"


def test_script_named_png_is_refused(rules: SecurityRuleValidator) -> None:
    with pytest.raises(InvalidInput, match="content is text/plain"):
        rules.check_upload("cat.png", "image/png", b"<?php system($_GET['c']); ?>")


def test_declared_type_and_extension_must_match_content(rules: SecurityRuleValidator) -> None:
    with pytest.raises(InvalidInput, match="declared image/png but content is application/pdf"):
        rules.check_upload("doc.png", "image/png", PDF)
    with pytest.raises(InvalidInput, match="does not match content"):
        rules.check_upload("doc.png", "application/pdf", PDF)
    with pytest.raises(InvalidInput, match="does not match content"):
        rules.check_upload("noextension", None, PNG)


def test_upload_size_and_emptiness() -> None:
    small = SecurityRuleValidator(max_upload_bytes=16)
    with pytest.raises(InvalidInput, match="larger than 16 bytes"):
        small.check_upload("scan.png", "image/png", PNG)
    with pytest.raises(InvalidInput, match="empty"):
        small.check_upload("scan.png", "image/png", b"")


def test_batch_of_at_most_1000_items(rules: SecurityRuleValidator) -> None:
    rules.check_batch([0] * 1000)
    with pytest.raises(InvalidInput, match="1001 items; at most 1000"):
        rules.check_batch([0] * 1001)
