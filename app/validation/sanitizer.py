"""`DataSanitizer`: the seed's facade over detection, escaping and format checks.

Detection (`detect_sql_injection`, `detect_xss`) is a guard and a signal: it refuses or counts
obvious attacks early and feeds the "suspicious input" metric. It is not the defence and never
will be: parameterised SQL queries stop SQL injection, and escaping on output (`escape_html`)
or allowlist sanitising (`sanitize_html`, ammonia via nh3) stops XSS, whatever got through.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import nh3
from markupsafe import escape

from app.validation import validators
from app.validation.decoding import folded_views
from app.validation.sqli import is_plain, sql_injection_reason
from app.validation.xss import xss_reason


class ThreatKind(StrEnum):
    """What a suspicious input looks like; a metric label, so keep the set small."""

    SQL_INJECTION = "sql_injection"
    XSS = "xss"
    NULL_BYTE = "null_byte"


@dataclass(frozen=True, slots=True)
class Threat:
    """Why an input was flagged: the kind and the detector rule that matched."""

    kind: ThreatKind
    rule: str


class DataSanitizer:
    """Detects injection attempts and cleans text; stateless, safe to share between requests."""

    def detect_sql_injection(self, text: str) -> bool:
        """True when `text` looks like an SQL injection attempt (see `app.validation.sqli`)."""
        return sql_injection_reason(text) is not None

    def detect_xss(self, text: str) -> bool:
        """True when `text` carries markup or script that would run in a page."""
        return xss_reason(text) is not None

    def threat(self, text: str) -> Threat | None:
        """The first threat found in `text`, or None; the middleware calls this per value."""
        if text.isalnum():
            return None
        if "\x00" in text:
            return Threat(ThreatKind.NULL_BYTE, "null_byte")
        plain = is_plain(text)
        prepared = None if plain else folded_views(text)
        rule = sql_injection_reason(text, prepared, plain)
        if rule is not None:
            return Threat(ThreatKind.SQL_INJECTION, rule)
        rule = xss_reason(text, prepared)
        if rule is not None:
            return Threat(ThreatKind.XSS, rule)
        return None

    @staticmethod
    def escape_html(text: str) -> str:
        """Escape `& < > " '` for HTML text and *quoted* attribute values.

        Not enough for unquoted attributes, `href`/`src` (a `javascript:` URL needs no special
        character) or script blocks: validate URLs with `validate_url` for those.
        """
        return str(escape(text))

    @staticmethod
    def sanitize_html(html: str) -> str:
        """Keep safe formatting (`<p>`, `<a href>`, `<img>`); drop scripts and handlers."""
        return nh3.clean(html)

    @staticmethod
    def remove_null_bytes(text: str) -> str:
        """Drop NUL characters, which truncate strings in C libraries and some databases."""
        return text.replace("\x00", "")

    @staticmethod
    def validate_email(value: str) -> bool:
        return validators.is_valid_email(value)

    @staticmethod
    def validate_url(value: str) -> bool:
        return validators.is_valid_url(value)

    @staticmethod
    def validate_phone(value: str) -> bool:
        return validators.is_valid_phone(value)
