"""Pure weight computations shared by the routers."""

from __future__ import annotations

import pytest

from blocks.errors import TargetError
from blocks.kubernetes.routers.base import Split, percentages, plan_split, with_canary


@pytest.mark.parametrize(
    ("weights", "primary", "stable", "split"),
    [
        ({"v1": 90, "v2": 10}, "v1", "v1", Split("v1", "v2", 10)),
        ({"v1": 90, "v2": 10}, None, "v1", Split("v1", "v2", 10)),  # nothing served yet
        ({"v1": 10, "v2": 90}, "v1", "v2", Split("v1", "v2", 90)),  # served side stays primary
        ({"v2": 100}, "v1", "v1", Split("v2")),
        ({"v2": 100, "v1": 0}, "v1", "v1", Split("v2")),
        ({"v1": 50, "v2": 50}, None, "v2", Split("v2", "v1", 50)),
    ],
)
def test_plan_split(weights: dict[str, int], primary: str | None, stable: str | None,
                    split: Split) -> None:
    assert plan_split(weights, primary, stable) == split


@pytest.mark.parametrize(
    ("weights", "problem"),
    [({"v1": 90}, "sum to 100"), ({"v1": 101, "v2": -1}, "0..100"),
     ({"v1": 50.0, "v2": 50}, "integers"),
     ({"v1": 40, "v2": 30, "v3": 30}, "two versions"),
     ({"v3": 50, "v4": 50}, "which one is the primary")],
)
def test_plan_split_refuses(weights: dict[str, int], problem: str) -> None:
    with pytest.raises(TargetError, match=problem):
        plan_split(weights, "v1", "v1")


@pytest.mark.parametrize(
    ("shares", "expected"),
    [({"v1": 2, "v2": 1}, {"v1": 67, "v2": 33}), ({"v1": 1, "v2": 1, "v3": 1},
                                                   {"v1": 34, "v2": 33, "v3": 33}),
     ({"v1": 3, "v2": 0}, {"v1": 100}), ({}, {}), ({"v1": 0}, {})],
)
def test_percentages_sum_to_100(shares: dict[str, float], expected: dict[str, int]) -> None:
    assert percentages(shares) == expected


@pytest.mark.parametrize(
    ("primary", "canary", "weight", "expected"),
    [({"v1": 100}, "v2", 10, {"v1": 90, "v2": 10}), ({"v1": 100}, "v2", 0, {"v1": 100}),
     ({"v1": 100}, None, 30, {"v1": 100}), ({"v2": 100}, "v2", 50, {"v2": 100}),
     ({"v1": 100}, "v2", 100, {"v2": 100}), ({}, "v2", 20, {"v2": 100})],
)
def test_with_canary(primary: dict[str, int], canary: str | None, weight: int,
                     expected: dict[str, int]) -> None:
    assert with_canary(primary, canary, weight) == expected
