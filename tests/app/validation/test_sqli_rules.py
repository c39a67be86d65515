"""The structural rules one by one, on squeezed (lower-case, single-spaced) text."""

from __future__ import annotations

import pytest

from app.validation.sqli_rules import RULES, first_rule

CASES = [
    ("union_select", "1 union all select 1,2"),
    ("select_projection", "select name from syscolumns where id = 1"),
    ("ddl_dml", "x'; drop table users;"),
    ("stacked_query", "1; waitfor delay '0:0:5'"),
    ("db_function", "1 and sleep(5)"),
    ("db_function", "exec master..xp_cmdshell 'dir'"),
    ("tautology", "' or 'a'='a"),
    ("tautology", "x or 1=1"),
    ("tautology", '") or ("x")=("x'),
    ("comment_cutoff", "admin' --"),
    ("comment_cutoff", "admin' #"),
    ("inline_comment", "1/*!50000union*/"),
    ("order_by_probe", "1 order by 3--"),
    ("string_concat", "'sel' || 'ect'"),
    ("blind_conditional", "if(1=1,sleep(5),0)"),
]

BENIGN = [
    "please select an option",
    "drop me a line -- any time after nine.",
    "a friend is a present you give yourself. -- robert louis stevenson",
    "if a = b and b = c then a = c.",
    "it's 3 < 5 and 7 > 2.",
    "order by friday for free delivery.",
    "rock 'n' roll or jazz?",
    "c++ or rust for the engine?",
    "---",
    "#1 rule: have fun.",
]


@pytest.mark.parametrize(("rule", "text"), CASES)
def test_each_rule_fires_on_its_shape(rule: str, text: str) -> None:
    names = [name for name, gate, check in RULES if gate(text) and check(text)]
    assert rule in names


@pytest.mark.parametrize("text", BENIGN)
def test_no_rule_fires_on_prose(text: str) -> None:
    assert first_rule(text) is None


def test_every_rule_has_a_case() -> None:
    assert {name for name, _, _ in RULES} == {rule for rule, _ in CASES}
