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
from collections.abc import Callable

import libinjection

from app.validation.decoding import squeeze, views

# Text made only of these characters cannot close a string or start SQL syntax; only a keyword
# sequence (`union all select`) is worth looking for in it.
_PLAIN = re.compile(r"[\w .,@!?:+/\u00c0-\uffff-]*")
_KEYWORDS_ONLY = re.compile(
    r"\bunion\s+(all\s+|distinct\s+)?select\b|\bselect\s+(top\s+\d|@@)|@@[a-z]"
    r"|\b(order|group)\s+by\s+\d+\s*$|\b0x[0-9a-f]{16,}",
    re.I,
)
# libinjection needs something to tokenise as SQL syntax (a quote that is not an apostrophe
# inside a word, an operator, a comment); without it libinjection is not consulted (2-7 µs).
_SQL_SYNTAX = re.compile(r"(?<!\w)'|'(?!\w)|[\"`;#()=<>@\\]|--|/\*|\*/|&&|\|\|")

_OPERAND = r"(?:\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\"|[a-z_][\w.]*)"
# A boolean operator standing where SQL would have one: after a space, a quote or a bracket
# (or first). The word is matched before the look-behind so that the regex engine can skip
# ahead to the next `o`, `a`, `x`, `&` or `|` instead of trying every position.
_BOOLEAN = r"(?:or(?<![^\s'\"`)]or)|and(?<![^\s'\"`)]and)|xor(?<![^\s'\"`)]xor)|&&|\|\|)"
_BOOLEAN_WORD = re.compile(r"(?<![a-z])(?:or|and|xor|having|where)(?![a-z])|&&|\|\|")


def _any(*needles: str) -> Callable[[str], bool]:
    return lambda text: any(needle in text for needle in needles)


# Each rule is (gate, pattern): the gate is a few substring tests that must pass before the
# regex runs, so ordinary text pays for `in` checks, not for backtracking (see the bench).
# Patterns run on `squeeze`d text: lower case, whitespace folded to single spaces.
_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    # UNION-based extraction, the classic.
    "union_select": (_any("union"), r"\bunion( all| distinct)? ?\(? ?select\b"),
    # SELECT followed by something only SQL puts there (a column list, *, @@var, a function).
    "select_projection": (
        _any("select"),
        r"\bselect ?(\*|@@|null\b|top \d|count ?\(|distinct\b|\( ?(select|sleep|\d|case|if|char)"
        r"|(\d+|null) ?,|[a-z_]+\(|[\w.@`\[\]]+( ?, ?[\w.@`\[\]]+)* from [\w.`\[\]]+ ?"
        r"(where|;|--|#|\)|order|group|limit|union|$))",
    ),
    # Data-changing statements in SQL shape (a bare "drop me a line" is not one).
    "ddl_dml": (
        _any("drop", "truncate", "create", "alter", "insert", "delete", "update", "grant"),
        r"\b(drop|truncate) table (if exists )?[\w.`\"\[\]]+ ?(;|--|#|$|,)"
        r"|\b(drop|create|alter) (database|schema|user|function|procedure|login)\b"
        r"|\binsert into [\w.`\[\]]+ ?(\(|values\b|select\b)"
        r"|\bdelete from [\w.`\[\]]+ ?(where\b|;|--|#|$)"
        r"|\bupdate [\w.`\[\]]+ set [\w.`\[\]]+ ?="
        r"|\bcreate user \w+ identified by\b|\bgrant (connect|resource|all|dba)\b",
    ),
    # A second statement after a semicolon.
    "stacked_query": (
        _any(";"),
        r"; ?(waitfor (delay|time)\b|declare @|exec(ute)?\b ?(master|xp_|sp_|\(|@|immediate)"
        r"|shutdown ?(with|--|#|;|$)|begin declare)",
    ),
    # Functions and objects that only an attacker probing a database calls.
    "db_function": (
        _any(
            "sleep",
            "benchmark",
            "waitfor",
            "randomblob",
            "load_file",
            "extractvalue",
            "updatexml",
            "bfilename",
            "utl_http",
            "dbms_",
            "information_schema",
            "sysobjects",
            "syscolumns",
            "@@",
            "char",
            "concat",
            "0x",
            "exec",
            "xp_",
            "sp_",
            "declare",
        ),
        r"\b(pg_sleep|sleep) ?\( ?(\d|__time__)|\bbenchmark ?\( ?\d+ ?,|\bwaitfor delay '"
        r"|\b(randomblob|load_file|extractvalue|updatexml|bfilename) ?\("
        r"|\butl_http\.request|\bdbms_[a-z]+\.|\binformation_schema\b|\bsys(objects|columns)\b"
        r"|@@[a-z_]+|\bchar ?\( ?(\d+|0x[0-9a-f]+) ?(, ?\d+ ?)*\) ?(\+|\|\||,|\))"
        r"|\bconcat ?\( ?0x|\b0x[0-9a-f]{16,}|\bexec ?\( ?@|\bexec(ute)? (master\.|xp_|sp_)"
        r"|\bxp_[a-z]+|\bsp_(password|addlogin|addsrvrolemember|executesql|oacreate|configure)"
        r"|\bdeclare @\w+ n?varchar|\bexecute immediate '",
    ),
    # Boolean injection: OR/AND followed by a comparison that is always true or always false.
    "tautology": (
        lambda text: _BOOLEAN_WORD.search(text) is not None,
        rf"{_BOOLEAN}(?: ?\(* ?(?P<lhs>{_OPERAND}) ?\)* ?= ?\(* ?(?P=lhs)"
        rf"| \(* ?{_OPERAND} ?(=|<>|!=|<|>|<=|>=|\blike\b) ?\(* ?{_OPERAND}? ?\)* ?(--|#|/\*|;|$)"
        r"| \(* ?\d+ ?(=|<>|!=) ?\(* ?\d+\b"
        r"| \(* ?'(?P<text>[^']*)' ?= ?\(* ?n?'(?P=text)('|$)"
        r"| \(* ?(\d+|true|false) ?\)* ?((--|#) ?['\"]?$|/\*)"
        r"| \(? ?exists ?[()]| \d+ between \d+ and \d+| [\w']+ in \( ?'"
        r"| \w+ like (char ?\(|'%))"
        rf"|['\"`)] ?(or|and|xor|&&|\|\|) ?(true|false|not|\d+|{_OPERAND} ?\() ?\)* ?(--|#|/\*)"
        r"|['\"`] ?(or|and) [\w.]+ is (not )?null\b"
        r"|\b(and|or|having|where) \d+ ?= ?\d+ ?(and|or|--|#|$)"
        r"|\b(and|or) \d+ ?= ?\d+ and ?\(? ?'?[\w%]+ ?'? ?(=|like)|\bhaving \d+ ?= ?\d+",
    ),
    # A quote or bracket closed, then a comment that cuts off the rest of the real query.
    # (A fortune's "\n\t-- Author" is not this: the comment must end the input.)
    "comment_cutoff": (
        lambda text: "--" in text or "#" in text or "/*" in text,
        r"['\"`)] ?;? ?(--( ?[-+'\"&]? ?$| ?&)|# ?['\"]? ?$|/\*)"
        r"|(null|\d+|true|false|table \w+|[a-z]+\(\d*\)) ?;? ?-- ?-?$|/\*!\d*|\w/\*\*/\w"
        r"|^ ?;? ?--( ?$|sp_)",
    ),
    "order_by_probe": (
        _any(" by "),
        r"\b(order|group) by (\d+|sleep|if|case)\b ?(,[^ ]*)? ?(--|#|$)",
    ),
    # Breaking out of a string and concatenating: 'sel' || 'ect', 1'||'asd'||'.
    "string_concat": (
        _any("'|", "' |", "'+", "' +"),
        r"'[^']{0,20}' ?\|\| ?'|\w' ?\|\| ?'|' ?\+ ?'\w+' ?\+ ?'|'\|\|\w",
    ),
    # Conditional probes used by blind injection.
    "blind_conditional": (
        _any("if(", "if (", "case when", "rlike", "substring", "ascii"),
        r"\bif ?\( ?\d+ ?[=<>]|\bcase when \(? ?\d+ ?[=<>]|\brlike ?\( ?select\b"
        r"|\bsubstring ?\( ?@@|\bascii ?\( ?substr",
    ),
}
_COMPILED = [(name, gate, re.compile(pattern)) for name, (gate, pattern) in _RULES.items()]


def _keywords_only(text: str) -> bool:
    low = text.lower()
    if "union" in low or "select" in low or "@@" in low or " by " in low or "0x" in low:
        return _KEYWORDS_ONLY.search(text) is not None
    return False


def _rule_hit(folded: str) -> str | None:
    for name, gate, pattern in _COMPILED:
        if gate(folded) and pattern.search(folded):
            return name
    return None


def sql_injection_reason(text: str) -> str | None:
    """Name of the first rule that flags `text` as SQL injection, or None.

    The name goes into logs and the 400 body, so an operator can see why an input was refused.
    """
    if not text:
        return None
    if text.isalnum():
        return None
    if _PLAIN.fullmatch(text) and "--" not in text:
        return "keyword_sequence" if _keywords_only(text) else None
    for index, view in enumerate(views(text)):
        if index < 2 and _SQL_SYNTAX.search(view) and _libinjection(view):
            return "libinjection"
        hit = _rule_hit(squeeze(view))
        if hit is not None:
            return hit
    return None


def _libinjection(text: str) -> bool:
    return bool(libinjection.is_sql_injection(text)["is_sqli"])


def detect_sql_injection(text: str) -> bool:
    """True when `text` looks like an attempt to change an SQL query (see module docstring)."""
    return sql_injection_reason(text) is not None
