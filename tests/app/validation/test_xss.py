"""XSS detection: executable markup flagged, ordinary HTML and prose not."""

from __future__ import annotations

import pytest

from app.validation.xss import detect_xss, xss_reason

BENIGN = [
    "JavaScript: The Good Parts is a short book.",
    '<div style="text-align: right;">Kabir Khan - <strong>Microsoft</strong></div>',
    '<a href="https://example.com"><img src="https://example.com/logo.png" alt="logo"></a>',
    "<p>Hello <b>world</b></p>",
    "Red alert (again)!",
    "x = y + 3; if (a < b) return a;",
    "See https://example.com/search?q=1&online=true",
    "Please confirm your e-mail address.",
]

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert('XSS')>",
    '"><svg/onload=alert(1)//',
    "<a href=javascript:alert(1)>click",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74>",
    "%3Cscript%3Ealert(document.cookie)%3C/script%3E",
    "'-alert(1)-'",
    "top['al\\x65rt'](1)",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<iframe srcdoc='&lt;svg onload&equals;alert&lpar;1&rpar;&gt;'>",
]


@pytest.mark.parametrize("text", BENIGN)
def test_benign_markup_and_prose_are_not_flagged(text: str) -> None:
    assert xss_reason(text) is None


@pytest.mark.parametrize("text", ATTACKS)
def test_attacks_are_flagged(text: str) -> None:
    assert detect_xss(text)


def test_reason_names_the_rule() -> None:
    assert xss_reason("<script>") == "script_element"
    assert xss_reason("<img src=x onerror=foo()>") == "event_handler"
    assert xss_reason("<a href='javascript:void(0)'>") == "script_url"
