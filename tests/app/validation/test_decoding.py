"""Decoded views: each encoding layer an attacker might use is peeled off."""

from __future__ import annotations

from app.validation.decoding import squeeze, url_decoded, views


def test_plain_text_has_a_single_view() -> None:
    assert views("hello world") == ["hello world"]


def test_url_encoding_is_decoded_twice_at_most() -> None:
    assert url_decoded("%2527") == "'"
    assert url_decoded("%252527") == "%27"
    assert url_decoded("%u0027x") == "'x"


def test_entities_and_js_escapes_are_decoded_cumulatively() -> None:
    assert views("%26lt;script%26gt;")[-1] == "<script>"
    assert "alert" in views("\\u0061lert")[-1]
    assert "alert" in views("al\\145rt")[-1]


def test_comments_and_control_characters_are_removed_in_extra_views() -> None:
    assert "uni on" in views("uni/**/on")
    assert "union" in views("uni/**/on")
    assert "javascript" in views("java\x00script")


def test_squeeze_folds_case_and_whitespace() -> None:
    assert squeeze("UNION \n\t ALL") == "union all"
