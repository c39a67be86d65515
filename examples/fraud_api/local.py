"""The fraud API as a local-target app (`floodgate local up` registers it).

Each instance is one uvicorn process (one worker, no access log, lifespan on) started from the
project root, so `examples.fraud_api` is importable in it. The load profile mixes valid
`POST /score` bodies (low and high risk) with `GET /model`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from blocks.local.apps import LoadProfile, LocalApp, TrafficRequest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SAMPLE_TRANSACTIONS: list[dict[str, Any]] = [
    {
        "transaction_id": "lg-1",
        "user_id": "alice",
        "amount": "42.50",
        "currency": "EUR",
        "merchant_id": "m-grocer",
        "merchant_category": "grocery",
        "country": "DE",
        "home_country": "DE",
        "card_present": True,
        "account_age_days": 900,
    },
    {
        "transaction_id": "lg-2",
        "user_id": "bob",
        "amount": "1299.00",
        "currency": "EUR",
        "merchant_id": "m-tech",
        "merchant_category": "electronics",
        "country": "FR",
        "home_country": "DE",
        "card_present": False,
        "account_age_days": 30,
        "transactions_last_24h": 3,
    },
    {
        "transaction_id": "lg-3",
        "user_id": "carol",
        "amount": "5000.00",
        "currency": "USD",
        "merchant_id": "m-coin",
        "merchant_category": "crypto",
        "country": "RU",
        "home_country": "US",
        "card_present": False,
        "account_age_days": 5,
        "transactions_last_24h": 12,
    },
    {
        "transaction_id": "lg-4",
        "user_id": "dave",
        "amount": "18.90",
        "currency": "GBP",
        "merchant_id": "m-cafe",
        "merchant_category": "restaurant",
        "country": "GB",
        "home_country": "GB",
    },
]


# All local traffic reaches an instance from nginx on 127.0.0.1, mostly sent by the one load
# generator: a per-client rate limit (100 per minute by default) would throttle the whole stack.
BASE_ENV = {"LOG_LEVEL": "WARNING", "RATE_LIMIT_ENABLED": "false"}


def fraud_api_command() -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "examples.fraud_api.main:create_service",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        "1",
        "--no-access-log",
        "--lifespan",
        "on",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "5",
    ]


def fraud_api_app(
    entry_port: int = 8080,
    preview_port: int = 8081,
    replicas: int = 2,
    env: dict[str, str] | None = None,
    rate: float | None = None,
) -> LocalApp:
    return LocalApp(
        name="fraud-api",
        command=fraud_api_command(),
        replicas=replicas,
        entry_port=entry_port,
        preview_port=preview_port,
        health_path="/health",
        env={**BASE_ENV, **(env or {})},
        cwd=str(PROJECT_ROOT),
        initial_version="v1",
        load=LoadProfile(
            rate_per_second=rate,
            requests=[
                TrafficRequest(method="POST", path="/score", bodies=SAMPLE_TRANSACTIONS, weight=4),
                TrafficRequest(method="GET", path="/model", weight=1),
            ],
        ),
    )
