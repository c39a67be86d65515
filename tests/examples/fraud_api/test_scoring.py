"""The fraud model: deterministic, bounded, explainable (worked examples)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from examples.fraud_api.scoring import Decision, Transaction, score

BASE: dict[str, Any] = {
    "transaction_id": "t-1", "user_id": "alice", "amount": "42.50", "currency": "EUR",
    "merchant_id": "m-1", "merchant_category": "grocery", "country": "DE",
    "home_country": "DE", "account_age_days": 900,
}


def tx(**changes: Any) -> Transaction:
    return Transaction.model_validate(BASE | changes)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_worked_examples() -> None:
    # grocery at home, old account: only the amount signal, 2.0 * log10(42.5) / 5
    low = score(tx())
    assert low.risk_score == round(sigmoid(-4.5 + 2.0 * math.log10(42.5) / 5), 4)
    assert low.decision is Decision.APPROVE
    # online crypto abroad, week-old account, 5 transactions today: every signal fires
    high = score(tx(amount="5000", merchant_category="crypto", country="RU", card_present=False,
                    account_age_days=7, transactions_last_24h=5))
    logit = -4.5 + 2.0 * math.log10(5000) / 5 + 1.6 + 1.2 + 0.8 + 1.0 * (1 - 7 / 90) + 1.4 * 0.25
    assert high.risk_score == round(sigmoid(logit), 4)
    assert high.decision is Decision.DECLINE
    assert high.signals["foreign"] == 1.2  # weight x signal, so the reason is visible
    assert high.confidence == high.risk_score  # 0.5 + |risk - 0.5| above the boundary


def test_same_input_same_answer_and_bounded() -> None:
    assert score(tx()) == score(tx())
    extreme = score(tx(amount="999999999.99", merchant_category="gambling", country="US",
                       card_present=False, account_age_days=0, transactions_last_24h=10_000))
    for result in (score(tx()), extreme):
        assert 0 <= result.risk_score <= 1
        assert 0 <= result.confidence <= 1


def test_each_risk_signal_raises_the_score() -> None:
    base = score(tx()).risk_score
    for change in ({"amount": "4000"}, {"merchant_category": "gift_cards"}, {"country": "FR"},
                   {"card_present": False}, {"account_age_days": 3},
                   {"transactions_last_24h": 15}):
        assert score(tx(**change)).risk_score > base, change


def test_unknown_account_age_lowers_confidence() -> None:
    assert score(tx(account_age_days=None)).confidence < score(tx()).confidence


@pytest.mark.parametrize(("field", "value"), [
    ("amount", "0"), ("amount", "-5"), ("amount", "10.001"), ("amount", "1000000000.00"),
    ("currency", "euro"), ("country", "Germany"), ("user_id", "alice; DROP TABLE"),
    ("merchant_category", "weapons"), ("transactions_last_24h", -1), ("unexpected", 1),
])
def test_invalid_input_names_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        tx(**{field: value})


def test_amount_keeps_its_exact_decimal_value() -> None:
    assert tx(amount="19.99").amount == Decimal("19.99")
