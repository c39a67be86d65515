"""The fraud model: a small logistic score over explainable signals (deterministic).

risk_score = sigmoid(BIAS + Σ weight × signal), each signal in [0, 1]:

| signal                 | how it is computed                                      | weight |
|------------------------|---------------------------------------------------------|--------|
| amount                 | log10(amount in the currency) / 5, capped at 1          |  2.0   |
| merchant_category      | category risk (grocery 0 … crypto/gambling 1)           |  1.6   |
| foreign                | 1 if the country differs from the user's home country   |  1.2   |
| card_not_present       | 1 for online / phone orders                             |  0.8   |
| new_account            | 1 - account_age_days / 90, floored at 0                 |  1.0   |
| velocity               | transactions in the last 24 h / 20, capped at 1         |  1.4   |

With BIAS = -4.5 a 40 EUR grocery purchase at home from an old account scores ≈ 0.02 (approve);
a 5,000 EUR online crypto purchase abroad from a week-old account with 5 transactions that day
≈ 0.86 (decline). `confidence` grows with the distance from the decision
boundary (0.5 at the boundary, 1 far from it) and is lowered by 0.15 when the account age is
unknown. Worked example in tests/examples/fraud_api/test_scoring.py.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.validation.types import Confidence, Currency, RiskScore, UserId

MODEL_VERSION = "logistic-2024.1"
BIAS = -4.5
WEIGHTS = {
    "amount": 2.0,
    "merchant_category": 1.6,
    "foreign": 1.2,
    "card_not_present": 0.8,
    "new_account": 1.0,
    "velocity": 1.4,
}
REVIEW_AT = 0.5
DECLINE_AT = 0.8


class Category(StrEnum):
    GROCERY = "grocery"
    RESTAURANT = "restaurant"
    RETAIL = "retail"
    TRAVEL = "travel"
    ELECTRONICS = "electronics"
    GIFT_CARDS = "gift_cards"
    GAMBLING = "gambling"
    CRYPTO = "crypto"


CATEGORY_RISK = {
    Category.GROCERY: 0.0,
    Category.RESTAURANT: 0.1,
    Category.RETAIL: 0.2,
    Category.TRAVEL: 0.4,
    Category.ELECTRONICS: 0.5,
    Category.GIFT_CARDS: 0.8,
    Category.GAMBLING: 1.0,
    Category.CRYPTO: 1.0,
}

# The runtime's validated types (app.validation.types): amounts are exact Decimals, never floats.
Identifier = UserId
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")]


class Transaction(BaseModel):
    """A card transaction to score; every field is validated (422 names the bad one)."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: Identifier
    user_id: UserId
    amount: Currency
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")
    merchant_id: Identifier
    merchant_category: Category
    country: Country
    home_country: Country
    card_present: bool = True
    account_age_days: int | None = Field(None, ge=0, le=36_500)
    transactions_last_24h: int = Field(0, ge=0, le=10_000)


class Decision(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    DECLINE = "decline"


class RiskAssessment(BaseModel):
    transaction_id: str
    risk_score: RiskScore
    confidence: Confidence
    decision: Decision
    signals: dict[str, float] = Field(description="Each signal's contribution (weight × value).")
    model_version: str = MODEL_VERSION


def signals(tx: Transaction) -> dict[str, float]:
    """The model's inputs, each in [0, 1]."""
    return {
        "amount": min(1.0, math.log10(max(float(tx.amount), 1.0)) / 5),
        "merchant_category": CATEGORY_RISK[tx.merchant_category],
        "foreign": 1.0 if tx.country != tx.home_country else 0.0,
        "card_not_present": 0.0 if tx.card_present else 1.0,
        "new_account": 0.0
        if tx.account_age_days is None
        else max(0.0, 1 - tx.account_age_days / 90),
        "velocity": min(1.0, tx.transactions_last_24h / 20),
    }


def score(tx: Transaction) -> RiskAssessment:
    contributions = {name: WEIGHTS[name] * value for name, value in signals(tx).items()}
    risk = 1 / (1 + math.exp(-(BIAS + sum(contributions.values()))))
    confidence = 0.5 + abs(risk - 0.5)
    if tx.account_age_days is None:
        confidence -= 0.15
    decision = (
        Decision.DECLINE
        if risk >= DECLINE_AT
        else (Decision.REVIEW if risk >= REVIEW_AT else Decision.APPROVE)
    )
    return RiskAssessment(
        transaction_id=tx.transaction_id,
        risk_score=round(risk, 4),
        confidence=round(min(1.0, max(0.0, confidence)), 4),
        decision=decision,
        signals={k: round(v, 4) for k, v in contributions.items()},
    )
