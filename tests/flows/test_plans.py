from itertools import pairwise

import pytest

from flows.plans import (
    Batch,
    blue_green_weights,
    canary_weights,
    check_min_healthy,
    rolling_batches,
    rolling_weights,
)


@pytest.mark.parametrize(
    ("steps", "stable", "expected"),
    [
        (
            [5, 10, 50, 100],
            "v1",
            [{"v1": 95, "v2": 5}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50}, {"v2": 100}],
        ),
        ([100], "v1", [{"v2": 100}]),
        ([20, 100], None, [{"v2": 100}, {"v2": 100}]),
        ([1, 99, 100], "v1", [{"v1": 99, "v2": 1}, {"v1": 1, "v2": 99}, {"v2": 100}]),
    ],
)
def test_canary_weights(steps, stable, expected):
    assert canary_weights(steps, stable, "v2") == expected


def test_canary_weights_always_sum_to_100():
    for plan in canary_weights([3, 7, 33, 61, 100], "v1", "v2"):
        assert sum(plan.values()) == 100


@pytest.mark.parametrize("bad", [0, 101, -5])
def test_canary_weights_refuse_out_of_range(bad):
    with pytest.raises(ValueError, match=r"outside 1\.\.100"):
        canary_weights([bad, 100], "v1", "v2")


def test_blue_green_switches_everything_at_once():
    assert blue_green_weights("blue", "green", switched=False) == {"blue": 100}
    assert blue_green_weights("blue", "green", switched=True) == {"green": 100}
    assert blue_green_weights(None, "green", switched=False) == {"green": 100}


@pytest.mark.parametrize(
    ("replicas", "batch", "expected"),
    [
        (1, 1, [Batch(1, 0)]),
        (2, 1, [Batch(1, 1), Batch(2, 0)]),
        (3, 2, [Batch(2, 1), Batch(3, 0)]),
        (4, 4, [Batch(4, 0)]),
        (4, 9, [Batch(4, 0)]),
    ],
)
def test_rolling_batches(replicas, batch, expected):
    assert rolling_batches(replicas, batch) == expected


def test_rolling_batches_keep_total_constant():
    for replicas in range(1, 12):
        for size in range(1, replicas + 1):
            batches = rolling_batches(replicas, size)
            assert all(b.new + b.old == replicas for b in batches)
            assert batches[-1] == Batch(replicas, 0)
            assert all(b.new - a.new <= size for a, b in pairwise(batches))


@pytest.mark.parametrize(("replicas", "size"), [(0, 1), (3, 0)])
def test_rolling_batches_refuse_nonsense(replicas, size):
    with pytest.raises(ValueError, match="at least 1"):
        rolling_batches(replicas, size)


def test_min_healthy_cannot_exceed_replicas():
    check_min_healthy(3, 1, 3)
    with pytest.raises(ValueError, match="min_healthy=4"):
        check_min_healthy(3, 1, 4)
    with pytest.raises(ValueError, match="batch_size=5"):
        check_min_healthy(3, 5, 1)


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        (Batch(1, 2), {"v1": 67, "v2": 33}),
        (Batch(1, 1), {"v1": 50, "v2": 50}),
        (Batch(1, 199), {"v1": 99, "v2": 1}),
        (Batch(2, 0), {"v2": 100}),
    ],
)
def test_rolling_weights_follow_instance_counts(batch, expected):
    assert rolling_weights(batch, "v1", "v2") == expected


def test_docstring_examples_hold():
    import doctest

    import flows.plans

    result = doctest.testmod(flows.plans)
    assert result.attempted > 5
    assert result.failed == 0
