"""RolloutRequest: the shape checks the API does itself, equal to the deploy flow's own."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from app.control.models import RolloutRequest, Strategy
from flows import spec as flow_spec


def test_the_default_strategy_is_the_flows_own():
    assert Strategy.CANARY.value == flow_spec.RolloutSpec.model_fields["strategy"].default


def test_declared_fields_exist_on_the_flow_spec():
    assert set(RolloutRequest.model_fields) <= set(flow_spec.RolloutSpec.model_fields)


def test_spec_is_a_valid_rollout_spec_with_extras_passed_through():
    request = RolloutRequest.model_validate({
        "app": "fraud-api", "version": "v2.1", "strategy": "rolling", "env": {"MODEL": "x"},
        "batch_size": 2, "health": {"retries": 1},
    })
    spec = request.spec()
    assert spec == {"app": "fraud-api", "version": "v2.1", "strategy": "rolling",
                    "env": {"MODEL": "x"}, "batch_size": 2, "health": {"retries": 1}}
    parsed = flow_spec.RolloutSpec.model_validate(spec)
    assert parsed.batch_size == 2
    assert parsed.strategy is flow_spec.Strategy.ROLLING


def test_unset_fields_are_left_to_the_flow_defaults():
    spec = RolloutRequest(app="fraud-api", version="v2").spec()
    assert spec == {"app": "fraud-api", "version": "v2", "strategy": "canary"}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"app": "Fraud_API", "version": "v2"}, "app", "pattern"),
        ({"app": "fraud", "version": "-v2"}, "version", "pattern"),
        ({"app": "fraud", "version": "v2", "strategy": "yolo"}, "strategy", "blue-green"),
        ({"app": "fraud", "version": "v2", "steps": [50, 10, 100]}, "steps", "increase"),
        ({"app": "fraud", "version": "v2", "steps": [10, 50]}, "steps", "last step"),
        ({"app": "fraud", "version": "v2", "steps": []}, "steps", "empty"),
        ({"app": "fraud", "version": "v2", "steps": [0, 100]}, "steps", "1..100"),
        ({"app": "fraud", "version": "v2", "env": {"1X": "a"}}, "env", "variable name"),
        ({"app": "fraud", "version": "v2", "env": {"X": "a\x00"}}, "env", "NUL"),
        ({"app": "fraud"}, "version", "required"),
        ({"app": "fraud", "version": "v2", "replicas": math.inf}, "", "finite"),
        ({"app": "fraud", "version": "v2", "analysis": {"x": [math.nan]}}, "", "analysis.x[0]"),
    ],
)
def test_bad_requests_name_the_field_and_the_reason(body, field, reason):
    with pytest.raises(ValidationError) as caught:
        RolloutRequest.model_validate(body)
    error = caught.value.errors()[0]
    assert (error["loc"][0] if error["loc"] else "") == field
    assert reason in error["msg"]


def test_the_api_refuses_what_the_flow_refuses():
    """Every bad body above is refused by the flow's RolloutSpec too (no stricter API)."""
    for body in ({"app": "fraud", "version": "v2", "steps": [50, 10, 100]},
                 {"app": "fraud", "version": "v2", "env": {"1X": "a"}}):
        with pytest.raises(ValidationError):
            flow_spec.RolloutSpec.model_validate(body)
