"""Format checks for e-mail addresses, URLs and phone numbers; they return bool, never raise.

Pragmatic rather than full-RFC: an address a mail server would accept and a person would type.
Domains go through IDNA (UTS #46), so `bücher.example` is valid and homograph tricks that IDNA
rejects are refused.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import idna

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"\+[1-9]\d{7,14}")


def to_ascii_domain(domain: str) -> str | None:
    """Lower-case ASCII (punycode) form of a domain, without a trailing dot; None if invalid."""
    domain = domain.strip().rstrip(".")
    if not domain or len(domain) > 253:
        return None
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    labels = ascii_domain.split(".")
    if all(_LABEL.fullmatch(label) for label in labels):
        return ascii_domain
    return None


def is_valid_email(value: str) -> bool:
    """`local@domain` with a dot-atom local part (<= 64 chars) and a dotted IDNA domain."""
    if len(value) > 254 or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        return False
    ascii_domain = to_ascii_domain(domain)
    return ascii_domain is not None and "." in ascii_domain


def is_valid_url(value: str, schemes: frozenset[str] = frozenset({"http", "https"})) -> bool:
    """An absolute URL with an allowed scheme (http/https by default: no `javascript:`) and host."""
    if len(value) > 2048 or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when out of range
    except ValueError:
        return False
    if parts.scheme.lower() not in schemes or not parts.hostname:
        return False
    if port == 0:
        return False
    host = parts.hostname
    if host.startswith("[") or ":" in host:  # IPv6 literal, already validated by urlsplit
        return True
    return to_ascii_domain(host) is not None


def is_valid_phone(value: str) -> bool:
    """An E.164 number (`+` country code, 8 to 15 digits); spaces, dots, dashes, () allowed."""
    compact = _PHONE_SEPARATORS.sub("", value)
    return len(value) <= 32 and _E164.fullmatch(compact) is not None
