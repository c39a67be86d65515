"""Scanning query strings, forms and JSON documents; paths name the offending field."""

from __future__ import annotations

import json

import pytest

from app.validation.sanitizer import DataSanitizer, ThreatKind
from app.validation.scanning import (
    JsonTooDeep,
    UndecodableBody,
    check_text,
    scan_json,
    scan_query,
)

SANITIZER = DataSanitizer()


def test_clean_query_and_json_have_no_finding() -> None:
    assert scan_query(SANITIZER, b"q=O%27Brien&page=2&sort=-created") is None
    assert scan_json(SANITIZER, b'{"name": "O\'Brien", "tags": ["a", "b"], "n": 1.5}') is None


def test_query_value_and_name_are_scanned() -> None:
    hit = scan_query(SANITIZER, b"page=1&q=%27%20or%201%3D1--")
    assert hit is not None
    assert (hit.field, hit.threat.kind) == ("query.q", ThreatKind.SQL_INJECTION)
    hit = scan_query(SANITIZER, b"%3Cscript%3E=1")
    assert hit is not None
    assert hit.field == "query.<script>"


@pytest.mark.parametrize(
    ("document", "path", "kind"),
    [
        ({"comment": "<script>alert(1)</script>"}, "$.comment", ThreatKind.XSS),
        ({"items": [{"id": 1}, {"x": "' or 1=1--"}]}, "$.items[1].x", ThreatKind.SQL_INJECTION),
        ({"a b": {"c": ["x", "y\u0000"]}}, '$["a b"].c[1]', ThreatKind.NULL_BYTE),
        ({"<img src=x onerror=alert(1)>": 1}, '$["<img src=x onerror=alert(1)>"]', ThreatKind.XSS),
        (["ok", "UNION ALL SELECT password FROM users"], "$[1]", ThreatKind.SQL_INJECTION),
    ],
)
def test_json_finding_carries_the_path(document: object, path: str, kind: ThreatKind) -> None:
    hit = scan_json(SANITIZER, json.dumps(document).encode())
    assert hit is not None
    assert (hit.field, hit.threat.kind) == (path, kind)


def test_first_finding_in_document_order() -> None:
    hit = scan_json(SANITIZER, b'{"a": "fine", "b": "<script>", "c": "\' or 1=1--"}')
    assert hit is not None
    assert hit.field == "$.b"


@pytest.mark.parametrize("body", [b"{not json", b'{"a": 1,}', b""])
def test_malformed_json_is_a_value_error(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        scan_json(SANITIZER, body)


def test_json_too_deep_for_the_parser() -> None:
    with pytest.raises(JsonTooDeep):
        scan_json(SANITIZER, b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("body", [b'{"a": "\xff"}', b'{"\\ud800": 1}', b'["ok", "\\udfff"]'])
def test_undecodable_json_is_refused(body: bytes) -> None:
    with pytest.raises(UndecodableBody):
        scan_json(SANITIZER, body)


def test_utf16_json_is_decoded_and_scanned() -> None:
    hit = scan_json(SANITIZER, '{"q": "<script>alert(1)</script>"}'.encode("utf-16"))
    assert hit is not None
    assert hit.field == "$.q"


def test_check_text_honours_the_charset() -> None:
    check_text("café".encode("latin-1"), "latin-1")
    with pytest.raises(UndecodableBody, match="utf-8"):
        check_text("café".encode("latin-1"), "utf-8")
    with pytest.raises(UndecodableBody):
        check_text(b"abc", "no-such-charset")
