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

from app.validation.decoding import folded_views, squeeze
from app.validation.sqli_rules import first_rule

# Text made only of word characters, spaces, light punctuation and apostrophes inside words
# (`O'Brien`) has no quote to close and no operator: it needs no decoding and no libinjection.
# Only words can make it SQL (`drop table users`, `union all select`), so the rules run only
# when one of these keywords is in it.
PLAIN = re.compile(r"[\w .,@!?:+/\u00c0-\uffff'-]*")
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_PLAIN_KEYWORDS = re.compile(  # searched in lower-cased text: IGNORECASE is several times slower
    r"union|select|drop|truncate|create|alter|insert|delete|update|grant|xp_|sp_|exec"
    r"|information_schema|sys(?:objects|columns)|between|\sby\s|@@|0x"
)
# The only identifiers a rule flags on their own: stored procedures and system catalogues.
_IDENTIFIER_RULE = re.compile(r"xp_|sp_|information_schema|sysobjects|syscolumns")
_KEYWORDS_ONLY = re.compile(
    r"\bunion\s+(all\s+|distinct\s+)?select\b|\bselect\s+(top\s+\d|@@)|@@[a-z]"
    r"|\b(order|group)\s+by\s+\d+\s*$|\b0x[0-9a-f]{16,}",
    re.I,
)
# libinjection is consulted only for text with a quote that is not an apostrophe inside a word
# (`O'Brien`): on the public lists it adds nothing to the rules below without one, and it
# costs 2-7 µs a call (bench/validation_detection.py).
_QUOTE = re.compile(r"(?<!\w)'|'(?!\w)|[\"`]")


def is_plain(text: str) -> bool:
    """True for text that only words can make into SQL (see PLAIN)."""
    return (
        PLAIN.fullmatch(text) is not None
        and "--" not in text
        and ("'" not in text or _LOOSE_APOSTROPHE.search(text) is None)
    )


def sql_injection_reason(
    text: str, prepared: list[tuple[str, str]] | None = None, plain: bool | None = None
) -> str | None:
    """Name of the first rule that flags `text` as SQL injection, or None.

    The name goes into logs and the 400 body, so an operator can see why an input was refused.
    `prepared` (`folded_views(text)`) and `plain` (`is_plain(text)`) save the work when the
    caller already has them.
    """
    if not text or text.isalnum():
        return None
    if text.isidentifier() and _IDENTIFIER_RULE.search(text.lower()) is None:
        return None  # a lone identifier (most JSON keys and many values) is not SQL
    if is_plain(text) if plain is None else plain:
        if _PLAIN_KEYWORDS.search(text.lower()) is None:
            return None
        if _KEYWORDS_ONLY.search(text):
            return "keyword_sequence"
        return first_rule(squeeze(text))
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
