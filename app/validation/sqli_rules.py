"""The structural SQL-injection rules `sqli.py` runs after (and besides) libinjection.

Each rule is a gate (cheap substring tests) and a check (a small regex, or a function). The
gate must pass before the check runs, so ordinary text pays for a few `in` tests rather than
for regex backtracking; per-keyword rules keep each regex short. Checks see `squeeze`d text:
lower case, whitespace folded to single spaces.

Every rule needs SQL *syntax* around its keyword: "drop me a line" is not `drop table t;`,
"select an option" is not `select a, b from t where`, a fortune's "\\n\\t-- Author" is not a
comment that cuts off the rest of a query. Inspired by OWASP CRS paranoia-level-1 rule ideas;
written for this project.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.validation.gates import contains_any

Check = Callable[[str], bool]

_OPERAND = r"(?:\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\"|[a-z_][\w.]*)"
# The word comes before its look-behind so the engine can jump between candidate letters.
_BOOLEAN_WORD = re.compile(
    r"(?:or(?<![a-z]or)|and(?<![a-z]and)|xor(?<![a-z]xor)|having(?<![a-z]having)"
    r"|where(?<![a-z]where))(?![a-z])|&&|\|\|"
)
# What may follow OR/AND/XOR/&&/|| standing where SQL has an operator: a comparison that is
# always true or false (1=1, 'a'='a, x=x), or a constant cut off by a comment.
_AFTER_BOOLEAN = re.compile(
    rf"(?:or|and|xor|&&|\|\|)(?: ?\(* ?(?P<lhs>{_OPERAND}) ?\)* ?= ?\(* ?(?P=lhs)"
    rf"| \(* ?{_OPERAND} ?(?:=|<>|!=|<|>|<=|>=|\blike\b) ?\(* ?{_OPERAND}? ?\)* ?(?:--|#|/\*|;|$)"
    r"| \(* ?\d+ ?(?:=|<>|!=) ?\(* ?\d+\b"
    r"| \(* ?'(?P<text>[^']*)' ?= ?\(* ?n?'(?P=text)(?:'|$)"
    r"| \(* ?\"(?P<dtext>[^\"]*)\" ?\)* ?= ?\(* ?\"(?P=dtext)(?:\"|$)"
    r"| \(* ?(?:\d+|true|false) ?\)* ?(?:(?:--|#) ?['\"]?$|/\*)"
    r"| \(? ?exists ?[()]| \d+ between \d+ and \d+| [\w']+ in \( ?'"
    r"| \w+ like (?:char ?\(|'%))"
)
# A quote or bracket closed right before the operator: ' or true--, " and x is null.
_AFTER_QUOTE = re.compile(
    rf"['\"`)] ?(?:or|and|xor|&&|\|\|) ?(?:true|false|not|\d+|{_OPERAND} ?\() ?\)* ?(?:--|#|/\*)"
    r"|['\"`] ?(?:or|and) [\w.]+ is (?:not )?null\b"
)
_NUMERIC = re.compile(
    r"(?:and|or|having|where) \d+ ?= ?\d+ ?(?:and|or|--|#|$)"
    r"|(?:and|or) \d+ ?= ?\d+ and ?\(? ?'?[\w%]+ ?'? ?(?:=|like)|having \d+ ?= ?\d+"
)


def _tautology(text: str) -> bool:
    """Boolean injection, checked only where a boolean operator actually stands."""
    for match in _BOOLEAN_WORD.finditer(text):
        start = match.start()
        before = text[start - 1] if start else " "
        if before in " '\"`)" and _AFTER_BOOLEAN.match(text, start):
            return True
        if not (before.isalnum() or before == "_") and _NUMERIC.match(text, start):
            return True
        quote = start - 2 if before == " " else start - 1
        if quote >= 0 and text[quote] in "'\"`)" and _AFTER_QUOTE.match(text, quote):
            return True
    return False


# The end of the input: a quote, bracket or constant, then a comment that swallows the rest.
_CUTOFF_TAIL = re.compile(
    r"(?:['\"`)] ?;? ?(?:-- ?[-+'\"&]? ?|# ?['\"]? ?)"
    r"|\b(?:null|\d+|true|false|table \w+|[a-z]+\(\d*\)) ?;? ?-- ?-?)$"
)
_LEADING_COMMENT = re.compile(r" ?;? ?--(?: ?$|sp_)")


def _comment_cutoff(text: str) -> bool:
    return _CUTOFF_TAIL.search(text[-64:]) is not None or (
        text.lstrip(" ;").startswith("--") and _LEADING_COMMENT.match(text) is not None
    )


def _regex(pattern: str) -> Check:
    compiled = re.compile(pattern)
    return lambda text: compiled.search(text) is not None


# (name, gate, check); the name is what logs, metrics and the 400 body report.
RULES: list[tuple[str, Check, Check]] = [
    # UNION-based extraction, the classic.
    ("union_select", contains_any("union"), _regex(r"\bunion( all| distinct)? ?\(? ?select\b")),
    # SELECT followed by something only SQL puts there (a column list, *, @@var, a function).
    (
        "select_projection",
        contains_any("select"),
        _regex(
            r"\bselect ?(\*|@@|null\b|top \d|count ?\(|distinct\b|\( ?(select|sleep|\d|case|if"
            r"|char)|(\d+|null) ?,|[a-z_]+\(|[\w.@`\[\]]+( ?, ?[\w.@`\[\]]+)* from [\w.`\[\]]+ ?"
            r"(where\b|;|--|#|\)|order by|group by|limit \d|union\b|$))"
        ),
    ),
    # Data-changing statements in SQL shape.
    (
        "ddl_dml",
        contains_any("drop", "truncate", "create", "alter", "insert", "delete", "update", "grant"),
        _regex(
            r"\b(drop|truncate) table (if exists )?[\w.`\"\[\]]+ ?(;|--|#|$|,)"
            r"|\b(drop|create|alter) (database|schema|user|function|procedure|login)\b"
            r"|\binsert into [\w.`\[\]]+ ?(\(|values\b|select\b)"
            r"|\bdelete from [\w.`\[\]]+ ?(where\b|;|--|#|$)"
            r"|\bupdate [\w.`\[\]]+ set [\w.`\[\]]+ ?="
            r"|\bcreate user \w+ identified by\b|\bgrant (connect|resource|all|dba)\b"
        ),
    ),
    # A second statement after a semicolon.
    (
        "stacked_query",
        contains_any(";"),
        _regex(
            r"; ?(waitfor (delay|time)\b|declare @|exec(ute)?\b ?(master|xp_|sp_|\(|@|immediate)"
            r"|shutdown ?(with|--|#|;|$)|begin declare)"
        ),
    ),
    # Functions and objects that only an attacker probing a database calls.
    ("db_function", contains_any("sleep"), _regex(r"\b(pg_)?sleep ?\( ?(\d|__time__)")),
    ("db_function", contains_any("benchmark"), _regex(r"\bbenchmark ?\( ?\d+ ?,")),
    ("db_function", contains_any("waitfor"), _regex(r"\bwaitfor delay '")),
    (
        "db_function",
        contains_any("randomblob", "load_file", "extractvalue", "updatexml", "bfilename"),
        _regex(r"\b(randomblob|load_file|extractvalue|updatexml|bfilename) ?\("),
    ),
    (
        "db_function",
        contains_any("utl_http", "dbms_", "information_schema", "sysobjects", "syscolumns", "@@"),
        _regex(
            r"\butl_http\.request|\bdbms_[a-z]+\.|\binformation_schema\b"
            r"|\bsys(objects|columns)\b|@@[a-z_]+"
        ),
    ),
    (
        "db_function",
        contains_any("char"),
        _regex(r"\bchar ?\( ?(\d+|0x[0-9a-f]+) ?(, ?\d+ ?)*\) ?(\+|\|\||,|\))"),
    ),
    ("db_function", contains_any("0x"), _regex(r"\bconcat ?\( ?0x|\b0x[0-9a-f]{16,}")),
    (
        "db_function",
        contains_any("exec", "xp_", "sp_", "declare"),
        _regex(
            r"\bexec ?\( ?@|\bexec(ute)? (master\.|xp_|sp_)"
            r"|\bxp_(cmdshell|reg\w+|dirtree|fileexist|servicecontrol|availablemedia|loginconfig"
            r"|makecab|ntsec\w*|terminate_process|sendmail|msver|enumgroups)\b"
            r"|\bsp_(password|addlogin|addsrvrolemember|executesql|oacreate|configure)"
            r"|\bdeclare @\w+ n?varchar|\bexecute immediate '"
        ),
    ),
    # Boolean injection: OR/AND followed by a comparison that is always true or always false.
    ("tautology", lambda text: _BOOLEAN_WORD.search(text) is not None, _tautology),
    # A quote or bracket closed, then a comment that cuts off the rest of the real query.
    (
        "comment_cutoff",
        lambda text: "--" in text[-8:] or "#" in text[-6:] or text.lstrip(" ;")[:2] == "--",
        _comment_cutoff,
    ),
    (
        "inline_comment",
        contains_any("/*", "--&", "-- &"),
        _regex(r"['\"`)] ?;? ?(-- ?&|/\*)|/\*!\d*|\w/\*\*/\w"),
    ),
    (
        "order_by_probe",
        contains_any(" by "),
        _regex(r"\b(order|group) by (\d+|sleep|if|case)\b ?(,[^ ]*)? ?(--|#|$)"),
    ),
    # Breaking out of a string and concatenating: 'sel' || 'ect', 1'||'asd'||'.
    (
        "string_concat",
        contains_any("'|", "' |", "'+", "' +"),
        _regex(r"'[^']{0,20}' ?\|\| ?'|\w' ?\|\| ?'|' ?\+ ?'\w+' ?\+ ?'|'\|\|\w"),
    ),
    # Conditional probes used by blind injection.
    (
        "blind_conditional",
        contains_any("if(", "if (", "case when", "rlike", "substring", "ascii"),
        _regex(
            r"\bif ?\( ?\d+ ?[=<>]|\bcase when \(? ?\d+ ?[=<>]|\brlike ?\( ?select\b"
            r"|\bsubstring ?\( ?@@|\bascii ?\( ?substr"
        ),
    ),
]


def first_rule(folded: str) -> str | None:
    """Name of the first rule whose gate and check both pass on squeezed text, or None."""
    for name, gate, check in RULES:
        if gate(folded) and check(folded):
            return name
    return None
