"""The service: create_app's health and metrics plus the fraud routes, X-Version everywhere."""

from __future__ import annotations

from tests.examples.fraud_api.conftest import ServiceFactory
from tests.examples.fraud_api.test_scoring import BASE


async def test_score_answers_with_risk_and_confidence(fraud_api: ServiceFactory) -> None:
    async with fraud_api() as client:
        response = await client.post("/score", json=BASE)
    assert response.status_code == 200
    body = response.json()
    assert body["transaction_id"] == "t-1"
    assert body["decision"] == "approve"
    assert 0 <= body["risk_score"] <= 1
    assert 0 <= body["confidence"] <= 1
    assert response.headers["x-version"] == "v3"


async def test_bad_input_is_422_naming_the_field(fraud_api: ServiceFactory) -> None:
    async with fraud_api() as client:
        response = await client.post("/score", json=BASE | {"amount": "12.345"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "amount"]
    assert response.headers["x-version"] == "v3"


async def test_every_response_carries_the_version(fraud_api: ServiceFactory) -> None:
    async with fraud_api() as client:
        for method, path in (("GET", "/health"), ("GET", "/model"), ("GET", "/metrics"),
                             ("GET", "/nope"), ("DELETE", "/score")):
            response = await client.request(method, path)
            assert response.headers["x-version"] == "v3", path


async def test_metrics_count_requests_by_status_and_time_them(fraud_api: ServiceFactory) -> None:
    async with fraud_api() as client:
        await client.post("/score", json=BASE)
        await client.post("/score", json={"amount": 1})
        text = (await client.get("/metrics")).text
    assert ('http_requests_total{app="fraud-api",method="POST",route="/score",status="200",'
            'version="v3"} 1.0') in text
    assert 'route="/score",status="422"' in text
    assert 'http_request_duration_seconds_bucket{app="fraud-api",' in text


async def test_model_explains_the_parameters(fraud_api: ServiceFactory) -> None:
    async with fraud_api() as client:
        model = (await client.get("/model")).json()
    assert set(model["weights"]) == {"amount", "merchant_category", "foreign",
                                     "card_not_present", "new_account", "velocity"}
