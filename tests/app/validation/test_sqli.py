"""SQL-injection detection: known attacks flagged, the seed's false positives not."""

from __future__ import annotations

import pytest

from app.validation.sqli import detect_sql_injection, sql_injection_reason

BENIGN = [
    "Please select an option",
    "O'Brien",
    "Ngũgĩ wa Thiong'o",
    "Drop me a line when you get there.",
    "A friend is a present you give yourself.\n\t\t-- Robert Louis Stevenson",
    "It's either 'yes' or 'no' -- nothing in between.",
    "Union Station is two blocks from the hotel.",
    "Select one from each group, then press Continue.",
    "---",
    "jane.doe+news@example.com",
    "",
]

ATTACKS = [
    "' or 1=1--",
    "admin' --",
    "1' or '1'='1",
    " UNION ALL SELECT 1,2,3--",
    "' UNION SELECT",
    " or 'a'='a",
    "1)) or benchmark(10000000,MD5(1))#",
    "'; exec master..xp_cmdshell 'ping 10.10.1.2'--",
    " ORDER BY 3-- ",
    "x' AND email IS NULL; --",
    "' ; drop table temp --",
    "%27%20or%201=1",
    "/**/or/**/1/**/=/**/1",
    "AND (SELECT * FROM (SELECT(SLEEP(5)))nQIP)",
]


@pytest.mark.parametrize("text", BENIGN)
def test_benign_text_is_not_flagged(text: str) -> None:
    assert sql_injection_reason(text) is None


@pytest.mark.parametrize("text", ATTACKS)
def test_attacks_are_flagged(text: str) -> None:
    assert detect_sql_injection(text)


def test_reason_names_the_rule_that_fired() -> None:
    assert sql_injection_reason(" UNION ALL SELECT") == "keyword_sequence"
    assert sql_injection_reason("x; waitfor delay '0:0:5'--") is not None
    assert sql_injection_reason("1 or pg_sleep(5)--") is not None


def test_encoded_payload_is_seen_through_url_encoding() -> None:
    plain = "' union select password from users--"
    encoded = "".join(f"%{ord(c):02X}" for c in plain)
    assert detect_sql_injection(encoded)
