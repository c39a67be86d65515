"""Pydantic types, exercised through a real FastAPI route (the way services use them)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.validation.types import Confidence, Currency, RiskScore, UserId


class Verdict(BaseModel):
    user_id: UserId
    amount: Currency
    risk: RiskScore
    confidence: Confidence


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/verdicts")
    async def create(verdict: Verdict) -> dict[str, str]:
        return {"amount": str(verdict.amount), "type": type(verdict.amount).__name__}

    return app


async def _post(payload: dict[str, object]) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/verdicts", json=payload)


GOOD = {"user_id": "bob_1-x", "amount": "19.99", "risk": 0.7, "confidence": 1}


async def test_valid_model_keeps_money_as_decimal() -> None:
    response = await _post(GOOD)
    assert response.status_code == 200
    assert response.json() == {"amount": "19.99", "type": "Decimal"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", "bob smith"),
        ("user_id", "x" * 65),
        ("user_id", ""),
        ("user_id", "robert'); DROP TABLE students;--"),
        ("amount", 19.99),
        ("amount", "0"),
        ("amount", "-5"),
        ("amount", "1000000000.00"),
        ("amount", "1.005"),
        ("amount", "NaN"),
        ("risk", 1.01),
        ("risk", -0.1),
        ("confidence", 2),
    ],
)
async def test_invalid_field_is_a_422_naming_it(field: str, value: object) -> None:
    response = await _post({**GOOD, field: value})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def test_currency_accepts_exact_floats_and_normalises_to_cents() -> None:
    currency = TypeAdapter(Currency)
    assert currency.validate_python(12.5) == Decimal("12.50")
    assert currency.validate_python(3) == Decimal("3.00")
    assert currency.validate_python("999999999.99") == Decimal("999999999.99")
    assert str(currency.validate_python("7.1")) == "7.10"
    with pytest.raises(ValidationError, match="send the amount as a string"):
        currency.validate_python(0.1)
    with pytest.raises(ValidationError, match="boolean"):
        currency.validate_python(True)
    with pytest.raises(ValidationError):
        currency.validate_python(float("inf"))


def test_scores_refuse_nan() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(RiskScore).validate_python(float("nan"))
