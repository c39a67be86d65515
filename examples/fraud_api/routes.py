"""The fraud API's own routes: `POST /score` and `GET /model` (health and metrics come from
`app.main.create_app`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from examples.fraud_api.scoring import (
    BIAS,
    CATEGORY_RISK,
    DECLINE_AT,
    MODEL_VERSION,
    REVIEW_AT,
    WEIGHTS,
    RiskAssessment,
    Transaction,
    score,
)

router = APIRouter(tags=["fraud"])


@router.post("/score")
async def score_transaction(transaction: Transaction) -> RiskAssessment:
    """Score one transaction (422 with the failing field for invalid input)."""
    return score(transaction)


@router.get("/model")
async def model() -> dict[str, Any]:
    """The model's parameters, so every score can be explained by hand."""
    return {
        "model_version": MODEL_VERSION,
        "bias": BIAS,
        "weights": WEIGHTS,
        "category_risk": {str(k): v for k, v in CATEGORY_RISK.items()},
        "thresholds": {"review": REVIEW_AT, "decline": DECLINE_AT},
    }
