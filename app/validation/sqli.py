"""SQL-injection detection: libinjection plus a few structural rules, never a keyword list.

Why not keywords: "Please select an option", "O'Brien" and every fortune-file attribution
(" -- Author") contain SQL keywords, quotes or comment markers. An injection is recognisable by
*structure*: text that closes a string or number and continues as SQL (a tautology, a comment
that cuts off the rest of the query, a stacked statement, a UNION, a database function call).

* libinjection (the detector inside ModSecurity and OWASP CRS rule 942100) tokenises the input
  as SQL in every quoting context and matches the token fingerprint against known attacks.
* The rules below cover what libinjection misses on public payload lists (fragments that are
  not complete injections on their own: `' UNION SELECT`, `ORDER BY 3--`, `benchmark(...)#`),
  in the spirit of CRS paranoia level 1 rules, each requiring SQL syntax around the keyword.

bench/validation_detection.py measures detection and false positives on public corpora, with a
development half used for tuning and a held-out half reported separately.

Detection is a guard and a signal, not the defence: parameterised queries are. A flagged input
is refused (block mode) or counted (report mode); an unflagged one is still only data.
"""

from __future__ import annotations

import re

import libinjection

from app.validation.decoding import squeeze, views

# Text made only of these characters cannot close a string or start SQL syntax; only a keyword
# sequence (`union all select`) is worth looking for in it.
_PLAIN = re.compile(r"[\w .,@!?:\u00c0-\uffff]*")
_KEYWORDS_ONLY = re.compile(
    r"\bunion\s+(all\s+|distinct\s+)?select\b|\bselect\s+(top\s+\d|@@)|@@[a-z]"
    r"|\b(order|group)\s+by\s+\d+\s*$|\b0x[0-9a-f]{16,}",
    re.I,
)

_OPERAND = r"(?:\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\"|[a-z_][\w.]*)"
_RULES: dict[str, str] = {
    # UNION-based extraction, the classic.
    "union_select": r"\bunion( all| distinct)? ?\(? ?select\b",
    # SELECT followed by something only SQL puts there (a column list, *, @@var, a function).
    "select_projection": (
        r"\bselect ?(\*|@@|null\b|top \d|count ?\(|distinct\b|\( ?(select|sleep|\d|case|if|char)"
        r"|(\d+|null) ?,|[a-z_]+\(|[\w.@`\[\]]+( ?, ?[\w.@`\[\]]+)* from [\w.`\[\]]+ ?"
        r"(where|;|--|#|\)|order|group|limit|union|$))"
    ),
    # Data-changing statements in SQL shape (a bare "drop me a line" is not one).
    "ddl_dml": (
        r"\b(drop|truncate) table (if exists )?[\w.`\"\[\]]+ ?(;|--|#|$|,)"
        r"|\b(drop|create|alter) (database|schema|user|function|procedure|login)\b"
        r"|\binsert into [\w.`\[\]]+ ?(\(|values\b|select\b)"
        r"|\bdelete from [\w.`\[\]]+ ?(where\b|;|--|#|$)"
        r"|\bupdate [\w.`\[\]]+ set [\w.`\[\]]+ ?="
        r"|\bcreate user \w+ identified by\b|\bgrant (connect|resource|all|dba)\b"
    ),
    # A second statement after a semicolon.
    "stacked_query": (
        r"; ?(waitfor (delay|time)\b|declare @|exec(ute)?\b ?(master|xp_|sp_|\(|@|immediate)"
        r"|shutdown ?(with|--|#|;|$)|begin declare)"
    ),
    # Functions and objects that only an attacker probing a database calls.
    "db_function": (
        r"\b(pg_sleep|sleep) ?\( ?(\d|__time__)|\bbenchmark ?\( ?\d+ ?,|\bwaitfor delay '"
        r"|\b(randomblob|load_file|extractvalue|updatexml|bfilename) ?\("
        r"|\butl_http\.request|\bdbms_[a-z]+\.|\binformation_schema\b|\bsys(objects|columns)\b"
        r"|@@[a-z_]+|\bchar ?\( ?(\d+|0x[0-9a-f]+) ?(, ?\d+ ?)*\) ?(\+|\|\||,|\))"
        r"|\bconcat ?\( ?0x|\b0x[0-9a-f]{16,}|\bexec ?\( ?@|\bexec(ute)? (master\.|xp_|sp_)"
        r"|\bxp_[a-z]+|\bsp_(password|addlogin|addsrvrolemember|executesql|oacreate|configure)"
        r"|\bdeclare @\w+ n?varchar|\bexecute immediate '"
    ),
    # Boolean injection: OR/AND followed by a comparison that is always true or always false.
    "tautology": (
        rf"(^|[\s'\"`)])(or|and|xor|&&|\|\|) ?\(* ?(?P<lhs>{_OPERAND}) ?\)* ?= ?\(* ?(?P=lhs)"
        rf"|(^|[\s'\"`)])(or|and|xor) \(* ?{_OPERAND} ?(=|<>|!=|<|>|<=|>=|\blike\b) ?\(* ?"
        rf"{_OPERAND}? ?\)* ?(--|#|/\*|;|$)"
        rf"|(^|[\s'\"`)])(or|and) \(* ?\d+ ?(=|<>|!=) ?\(* ?\d+\b"
        rf"|['\"`)] ?(or|and|xor|&&|\|\|) ?(true|false|not|\d+|{_OPERAND} ?\() ?\)* ?(--|#|/\*)"
        r"|(^|[\s'\"`)])(or|and) \(* ?'(?P<text>[^']*)' ?= ?\(* ?n?'(?P=text)('|$)"
        r"|(^|[\s'\"`)])(or|and) \(* ?(\d+|true|false) ?\)* ?((--|#) ?['\"]?$|/\*)"
        r"|['\"`] ?(or|and) [\w.]+ is (not )?null\b|\b(or|and) \(? ?exists ?[()]"
        r"|\b(or|and) \d+ between \d+ and \d+|\bor [\w']+ in \( ?'"
        r"|\b(and|or|having|where) \d+ ?= ?\d+ ?(and|or|--|#|$)"
        r"|\b(and|or) \d+ ?= ?\d+ and ?\(? ?'?[\w%]+ ?'? ?(=|like)"
        r"|\b(or|and) \w+ like (char ?\(|'%)|\bhaving \d+ ?= ?\d+"
    ),
    # A quote or bracket closed, then a comment that cuts off the rest of the real query.
    # (A fortune's "\n\t-- Author" is not this: the comment must end the input.)
    "comment_cutoff": (
        r"['\"`)] ?;? ?(--( ?[-+'\"&]? ?$| ?&)|# ?['\"]? ?$|/\*)"
        r"|\b(null|\d+|true|false|table \w+|[a-z]+\(\d*\)) ?;? ?-- ?-?$|/\*!\d*|\w/\*\*/\w"
        r"|^ ?;? ?--( ?$|sp_)|\b(order|group) by (\d+|sleep|if|case)\b ?(,[^ ]*)? ?(--|#|$)"
    ),
    # Breaking out of a string and concatenating: 'sel' || 'ect', 1'||'asd'||'.
    "string_concat": r"'[^']{0,20}' ?\|\| ?'|\w' ?\|\| ?'|' ?\+ ?'\w+' ?\+ ?'|'\|\|\w",
    # Conditional probes used by blind injection.
    "blind_conditional": (
        r"\bif ?\( ?\d+ ?[=<>]|\bcase when \(? ?\d+ ?[=<>]|\brlike ?\( ?select\b"
        r"|\bsubstring ?\( ?@@|\bascii ?\( ?substr"
    ),
}
_PATTERN = re.compile("|".join(f"(?:{p})" for p in _RULES.values()))
_RULE_PATTERNS = {name: re.compile(p) for name, p in _RULES.items()}


def _libinjection(text: str) -> bool:
    return bool(libinjection.is_sql_injection(text)["is_sqli"])


def sql_injection_reason(text: str) -> str | None:
    """Name of the first rule that flags `text` as SQL injection, or None.

    The name goes into logs and the 400 body, so an operator can see why an input was refused.
    """
    if not text:
        return None
    if _PLAIN.fullmatch(text):
        return "union_select" if _KEYWORDS_ONLY.search(text) else None
    for view in views(text):
        if _libinjection(view):
            return "libinjection"
        folded = squeeze(view)
        if _PATTERN.search(folded):
            return next(n for n, p in _RULE_PATTERNS.items() if p.search(folded))
    return None


def detect_sql_injection(text: str) -> bool:
    """True when `text` looks like an attempt to change an SQL query (see module docstring)."""
    return sql_injection_reason(text) is not None
