"""DataSanitizer: escaping and nh3 sanitising neutralise what detection may miss."""

from __future__ import annotations

import base64
import random
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.validation.sanitizer import DataSanitizer, ThreatKind

XSS_CORPUS = Path(__file__).parents[3] / "bench" / "corpora" / "xss"


def _xss_payloads() -> list[str]:
    lines: set[str] = set()
    for path in sorted(XSS_CORPUS.glob("*.txt")):
        lines.update(line for line in path.read_text(encoding="utf-8").split("\n") if line.strip())
    return sorted(lines)


class _ActiveContent(HTMLParser):
    """Collects what a browser would execute in an HTML fragment: script-capable elements,
    event-handler attributes and script URLs in attribute values."""

    SCRIPT_TAGS = frozenset(
        {
            "script",
            "style",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
            "base",
            "meta",
            "link",
            "form",
            "frame",
            "frameset",
            "applet",
        }
    )
    SCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|livescript|data):", re.I)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SCRIPT_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc", "formaction"}:
                self.found.append(f"{tag}[{name}]")
            elif value and self.SCRIPT_URL.match(re.sub(r"[\x00-\x20]", "", value)):
                self.found.append(f"{tag}[{name}]={value}")


def _active_content(fragment: str) -> list[str]:
    parser = _ActiveContent()
    parser.feed(fragment)
    parser.close()
    return parser.found


@pytest.fixture(scope="module")
def sanitizer() -> DataSanitizer:
    return DataSanitizer()


def test_escape_html_escapes_the_five_special_characters(sanitizer: DataSanitizer) -> None:
    assert sanitizer.escape_html("<a href='x'>\"&</a>") == (
        "&lt;a href=&#39;x&#39;&gt;&#34;&amp;&lt;/a&gt;"
    )


def test_sanitize_html_keeps_formatting_and_drops_script(sanitizer: DataSanitizer) -> None:
    cleaned = sanitizer.sanitize_html(
        '<p>Hi <b>there</b> <a href="https://example.com">link</a>'
        '<img src="https://example.com/a.png" onerror="alert(1)"><script>alert(2)</script></p>'
    )
    assert "<b>there</b>" in cleaned
    assert 'href="https://example.com"' in cleaned
    assert "onerror" not in cleaned
    assert "script" not in cleaned


def test_sanitize_html_neutralises_every_public_xss_payload(sanitizer: DataSanitizer) -> None:
    """The real defence: whatever detection misses, nh3's output contains nothing executable."""
    payloads = _xss_payloads()
    assert len(payloads) > 250
    survivors = {p: _active_content(sanitizer.sanitize_html(p)) for p in payloads}
    assert {p: found for p, found in survivors.items() if found} == {}
    assert _active_content("<img src=x onerror=alert(1)>") == ["img[onerror]"]  # the check works


def test_remove_null_bytes(sanitizer: DataSanitizer) -> None:
    assert sanitizer.remove_null_bytes("a\x00b\x00") == "ab"


def test_threat_reports_kind_and_rule(sanitizer: DataSanitizer) -> None:
    assert sanitizer.threat("hello world") is None
    assert sanitizer.threat("O'Brien") is None
    sqli = sanitizer.threat("' or 1=1--")
    assert sqli is not None
    assert sqli.kind is ThreatKind.SQL_INJECTION
    xss = sanitizer.threat("<script>alert(1)</script>")
    assert xss is not None
    assert xss.kind is ThreatKind.XSS
    nul = sanitizer.threat("file.txt\x00.png")
    assert nul is not None
    assert nul.kind is ThreatKind.NULL_BYTE


def test_detectors_and_format_checks_are_exposed(sanitizer: DataSanitizer) -> None:
    assert sanitizer.detect_sql_injection("1 UNION SELECT password FROM users")
    assert not sanitizer.detect_sql_injection("Please select an option")
    assert sanitizer.detect_xss("<svg onload=alert(1)>")
    assert sanitizer.validate_email("a@example.com")
    assert not sanitizer.validate_url("javascript:alert(1)")
    assert sanitizer.validate_phone("+44 20 7946 0958")


def test_random_tokens_are_not_flagged(sanitizer: DataSanitizer) -> None:
    """API keys, session ids and hashes travel in JSON bodies; none may look like an attack."""
    rng = random.Random(20261127)
    tokens = [base64.b64encode(rng.randbytes(rng.randint(8, 96))).decode() for _ in range(3000)]
    tokens += [base64.urlsafe_b64encode(rng.randbytes(32)).decode() for _ in range(3000)]
    tokens += [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(500)]
    tokens += ["XP_G_bHJD96ksYP1pHq7_v3vbeoMxHzKEqT07U4bIlk"]  # once flagged as xp_ procedure
    assert [t for t in tokens if sanitizer.threat(t)] == []
