"""Annotated pydantic types for request and response models (usable in FastAPI directly).

    class Transaction(BaseModel):
        user_id: UserId
        amount: Currency
        risk: RiskScore

Money is `Decimal`, never float: a float like 0.1 is not the number the client wrote, and sums
of floats drift. JSON numbers that arrive as floats are accepted only when they are exactly a
whole number of cents (12.5, 3.0); anything else must be sent as a string ("19.99").
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

MAX_CURRENCY = Decimal("999999999.99")
_CENT = Decimal("0.01")


def _exact_decimal(value: Any) -> Any:
    """Turn an exactly representable float into Decimal; refuse the others and bools."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("amount must be finite")
        exact = Decimal(value)
        if exact != exact.quantize(_CENT):
            raise ValueError(
                f"{value!r} is not exactly representable as a float; send the amount as a string"
            )
        return exact
    return value


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


RiskScore = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
"""A model's risk estimate, 0 (benign) to 1 (certain fraud)."""

Confidence = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
"""How sure a model is of its verdict, 0 to 1."""

Currency = Annotated[
    Decimal,
    BeforeValidator(_exact_decimal),
    Field(gt=0, le=MAX_CURRENCY, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_two_places),
]
"""A positive amount, at most 999,999,999.99, with at most two decimal places."""

UserId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
"""An account identifier: letters, digits, `_` and `-`, 1 to 64 characters."""
