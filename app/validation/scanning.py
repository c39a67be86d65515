"""Find the first suspicious value in a query string, a form body or a JSON document.

Every string is checked, keys as well as values (a key is as much attacker-controlled input),
and the finding carries the field's path (`query.q`, `$.items[3].note`) so a 400 can say
which field was refused and an operator can find it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from app.validation.sanitizer import DataSanitizer, Threat


@dataclass(frozen=True, slots=True)
class Finding:
    """A suspicious input: where it is and what it looks like."""

    field: str
    threat: Threat


class JsonTooDeep(Exception):
    """Nesting deeper than the parser can follow (answer 400 rather than crash)."""


class UndecodableBody(Exception):
    """Bytes that are not text in the declared encoding, or JSON with lone surrogates
    (`"\\ud800"`): nothing downstream can encode them back, so answer 400 rather than let
    the app's error handler crash on them."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"


def _json_strings(document: Any) -> Iterator[tuple[str, str]]:
    """(path, string) for every key and string value, depth-first, without recursion."""
    stack: list[tuple[str, Any]] = [("$", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            for key, value in reversed(node.items()):
                child = _key_path(path, key)
                yield child, key
                stack.append((child, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(node))))


def scan_pairs(
    sanitizer: DataSanitizer, prefix: str, pairs: list[tuple[str, str]]
) -> Finding | None:
    """First suspicious name or value among decoded `name=value` pairs."""
    for name, value in pairs:
        field = f"{prefix}.{name}"
        threat = sanitizer.threat(name) or sanitizer.threat(value)
        if threat is not None:
            return Finding(field, threat)
    return None


def check_text(body: bytes, charset: str) -> None:
    """UndecodableBody unless `body` decodes in `charset` (an unknown charset counts as bad)."""
    try:
        body.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise UndecodableBody(f"body is not valid {charset} text") from None


def scan_query(sanitizer: DataSanitizer, raw: bytes, prefix: str = "query") -> Finding | None:
    """Scan a percent-encoded `a=1&b=2` string (a query string or a form body)."""
    if not raw:
        return None
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="replace")
    return scan_pairs(sanitizer, prefix, pairs)


def scan_json(sanitizer: DataSanitizer, body: bytes) -> Finding | None:
    """Scan a JSON body; ValueError if it is not JSON (the caller lets the app answer that)."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise JsonTooDeep from None
    except UnicodeDecodeError:
        raise UndecodableBody("JSON body is not UTF-8, UTF-16 or UTF-32") from None
    for path, text in _json_strings(document):
        if not text.isascii() and _SURROGATE.search(text):
            raise UndecodableBody(f"{path} holds a lone UTF-16 surrogate")
        threat = sanitizer.threat(text)
        if threat is not None:
            return Finding(path, threat)
    return None
