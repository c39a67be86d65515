"""InputValidator: pagination clamped, decimals bounded, date ranges capped, JSON size."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.validation.errors import InvalidInput
from app.validation.input_validator import InputValidator


@pytest.fixture
def validator() -> InputValidator:
    return InputValidator()


@pytest.mark.parametrize(
    ("page", "size", "expected"),
    [
        (1, 20, (1, 20)),
        (0, 0, (1, 1)),
        (-5, 500, (1, 100)),
        ("3", "100", (3, 100)),
        (2, 101, (2, 100)),
    ],
)
def test_pagination_is_clamped(
    validator: InputValidator, page: int | str, size: int | str, expected: tuple[int, int]
) -> None:
    assert validator.pagination(page, size) == expected


@pytest.mark.parametrize("bad", ["ten", "1.5", True, ""])
def test_pagination_refuses_non_integers(validator: InputValidator, bad: str | bool) -> None:
    with pytest.raises(InvalidInput) as error:
        validator.pagination(1, bad)
    assert error.value.field == "page_size"


def test_decimal_in_range(validator: InputValidator) -> None:
    assert validator.decimal_in_range("amount", "10.50", minimum=0, maximum=100) == Decimal("10.50")
    with pytest.raises(InvalidInput, match="at least 0"):
        validator.decimal_in_range("amount", "-1", minimum=0)
    with pytest.raises(InvalidInput, match="at most 100"):
        validator.decimal_in_range("amount", 101, maximum=100)
    with pytest.raises(InvalidInput, match="finite"):
        validator.decimal_in_range("amount", "Infinity")
    with pytest.raises(InvalidInput, match="not a decimal"):
        validator.decimal_in_range("amount", "12,50")
    with pytest.raises(InvalidInput, match="strings"):
        validator.decimal_in_range("amount", 0.1)  # type: ignore[arg-type]


def test_date_range_is_at_most_90_days(validator: InputValidator) -> None:
    start = date(2026, 1, 1)
    assert validator.date_range(start, start + timedelta(days=90)) == (start, date(2026, 4, 1))
    assert validator.date_range("2026-01-01", "2026-01-01") == (start, start)
    with pytest.raises(InvalidInput, match="90 days") as error:
        validator.date_range(start, start + timedelta(days=91))
    assert error.value.field == "end"
    with pytest.raises(InvalidInput, match="before start"):
        validator.date_range("2026-02-01", "2026-01-01")
    with pytest.raises(InvalidInput) as bad:
        validator.date_range("01/02/2026", "2026-01-03")
    assert bad.value.field == "start"


def test_json_size(validator: InputValidator) -> None:
    validator.json_size(b"x" * 1_048_576)
    with pytest.raises(InvalidInput, match="1048577 bytes"):
        validator.json_size(b"x" * 1_048_577)
    with pytest.raises(InvalidInput):
        validator.json_size("é" * 600_000)  # counted in bytes, not characters
