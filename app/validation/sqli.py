"""SQL-injection detection: libinjection plus a few structural rules, never a keyword list.

Why not keywords: "Please select an option", "O'Brien" and every fortune-file attribution
(" -- Author") contain SQL keywords, quotes or comment markers. An injection is recognisable by
*structure*: text that closes a string or number and continues as SQL (a tautology, a comment
that cuts off the rest of the query, a stacked statement, a UNION, a database function call).

* libinjection (the detector inside ModSecurity and OWASP CRS rule 942100) tokenises the input
  as SQL in every quoting context and matches the token fingerprint against known attacks.
* The rules in `sqli_rules.py` cover what libinjection misses on public payload lists (fragments
  that are not injections on their own: `' UNION SELECT`, `ORDER BY 3--`, `benchmark(...)#`),
  in the spirit of CRS paranoia level 1 rules, each requiring SQL syntax around the keyword.

bench/validation_detection.py measures detection and false positives on public corpora, with a
development half used for tuning and a held-out half reported separately.

Detection is a guard and a signal, not the defence: parameterised queries are. A flagged input
is refused (block mode) or counted (report mode); an unflagged one is still only data.
"""

from __future__ import annotations

import re

import libinjection

from app.validation.decoding import folded_views
from app.validation.sqli_rules import first_rule

# Text made only of these characters cannot close a string or start SQL syntax; only a keyword
# sequence (`union all select`) is worth looking for in it.
PLAIN = re.compile(r"[\w .,@!?:+/\u00c0-\uffff-]*")
_KEYWORDS_ONLY = re.compile(
    r"\bunion\s+(all\s+|distinct\s+)?select\b|\bselect\s+(top\s+\d|@@)|@@[a-z]"
    r"|\b(order|group)\s+by\s+\d+\s*$|\b0x[0-9a-f]{16,}",
    re.I,
)
# libinjection is consulted only for text with a quote that is not an apostrophe inside a word
# (`O'Brien`): on the public lists it adds nothing to the rules below without one, and it
# costs 2-7 µs a call (bench/validation_detection.py).
_QUOTE = re.compile(r"(?<!\w)'|'(?!\w)|[\"`]")


def _keywords_only(text: str) -> bool:
    low = text.lower()
    if "union" in low or "select" in low or "@@" in low or " by " in low or "0x" in low:
        return _KEYWORDS_ONLY.search(text) is not None
    return False


def sql_injection_reason(text: str, prepared: list[tuple[str, str]] | None = None) -> str | None:
    """Name of the first rule that flags `text` as SQL injection, or None.

    The name goes into logs and the 400 body, so an operator can see why an input was refused.
    `prepared` is `folded_views(text)` when the caller already has it.
    """
    if not text:
        return None
    if text.isalnum():
        return None
    if PLAIN.fullmatch(text) and "--" not in text:
        return "keyword_sequence" if _keywords_only(text) else None
    for index, (view, folded) in enumerate(prepared or folded_views(text)):
        if index < 2 and _QUOTE.search(view) and _libinjection(view):
            return "libinjection"
        hit = first_rule(folded)
        if hit is not None:
            return hit
    return None


def _libinjection(text: str) -> bool:
    return bool(libinjection.is_sql_injection(text)["is_sqli"])


def detect_sql_injection(text: str) -> bool:
    """True when `text` looks like an attempt to change an SQL query (see module docstring)."""
    return sql_injection_reason(text) is not None
