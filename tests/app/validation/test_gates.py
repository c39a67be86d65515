"""`contains_any`: the substring gate in front of each detection rule."""

from __future__ import annotations

import pytest

from app.validation.gates import contains_any


@pytest.mark.parametrize(
    ("needles", "text", "expected"),
    [
        (("union",), "1 union select", True),
        (("union",), "uni on", False),
        (("drop", "truncate"), "truncate table", True),
        (("drop", "truncate"), "select 1", False),
        (("a", "b"), "", False),
    ],
)
def test_gate_reports_whether_any_needle_occurs(
    needles: tuple[str, ...], text: str, expected: bool
) -> None:
    assert contains_any(*needles)(text) is expected
