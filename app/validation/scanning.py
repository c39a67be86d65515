"""Find the first suspicious value in a query string, a form body or a JSON document.

Every string is checked, keys as well as values (a key is as much attacker-controlled input),
and the finding carries the field's path (`query.q`, `$.items[3].note`) so a 400 can say
which field was refused and an operator can find it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from app.validation.sanitizer import Threat


@dataclass(frozen=True, slots=True)
class Finding:
    """A suspicious input: where it is and what it looks like."""

    field: str
    threat: Threat


class ThreatDetector(Protocol):
    """What the scanners ask of each string (`DataSanitizer` is the real one)."""

    def threat(self, text: str) -> Threat | None: ...


class NoScreening:
    """A detector that flags nothing, for paths exempt from injection screening.

    The scanners still run with it: JSON nested too deeply or holding lone surrogates is still
    refused, because what protects the app from crashing on a body is not a judgement of its
    values."""

    def threat(self, text: str) -> Threat | None:
        return None


class JsonTooDeep(Exception):
    """Nesting deeper than the parser can follow (answer 400 rather than crash)."""


class UndecodableBody(Exception):
    """Bytes that are not text in the declared encoding, or JSON with lone surrogates
    (`"\\ud800"`): nothing downstream can encode them back, so answer 400 rather than let
    the app's error handler crash on them."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _path(trail: list[tuple[int, str | int]], index: int) -> str:
    """`$.items[3].note` for the node at `trail[index]`, by following parent links."""
    parts: list[str] = []
    while index > 0:
        index, step = trail[index]
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif step.isidentifier():
            parts.append(f".{step}")
        else:
            parts.append(f"[{json.dumps(step)}]")
    return "$" + "".join(reversed(parts))


def scan_pairs(
    sanitizer: ThreatDetector, prefix: str, pairs: list[tuple[str, str]]
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


def scan_query(sanitizer: ThreatDetector, raw: bytes, prefix: str = "query") -> Finding | None:
    """Scan a percent-encoded `a=1&b=2` string (a query string or a form body)."""
    if not raw:
        return None
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="replace")
    return scan_pairs(sanitizer, prefix, pairs)


def scan_json(sanitizer: ThreatDetector, body: bytes) -> Finding | None:
    """Scan a JSON body; ValueError if it is not JSON (the caller lets the app answer that).

    Every key and string value is checked, depth-first, without recursion. Paths are not
    formatted while walking (most bodies have no finding): `trail` records each node's parent
    and step, and `_path` names the one string that is flagged.
    """
    try:
        document = json.loads(body)
    except RecursionError:
        raise JsonTooDeep from None
    except UnicodeDecodeError:
        raise UndecodableBody("JSON body is not UTF-8, UTF-16 or UTF-32") from None
    threat_of = sanitizer.threat
    trail: list[tuple[int, str | int]] = [(0, "")]
    stack: list[tuple[int, Any]] = [(0, document)]
    while stack:
        index, node = stack.pop()
        if isinstance(node, dict):  # pushed in reverse so that they pop in document order
            for key, value in reversed(node.items()):
                trail.append((index, key))
                child = len(trail) - 1
                stack.append((child, value))
                stack.append((child, key))
        elif isinstance(node, list):
            for position in range(len(node) - 1, -1, -1):
                item = node[position]
                if isinstance(item, str | dict | list):
                    trail.append((index, position))
                    stack.append((len(trail) - 1, item))
        elif isinstance(node, str):
            if not node.isascii() and _SURROGATE.search(node):
                raise UndecodableBody(f"{_path(trail, index)} holds a lone UTF-16 surrogate")
            threat = threat_of(node)
            if threat is not None:
                return Finding(_path(trail, index), threat)
    return None
