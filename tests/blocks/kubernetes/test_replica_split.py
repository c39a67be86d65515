import doctest

import pytest

import blocks.kubernetes.replica_split
from blocks.kubernetes.replica_split import replica_split


@pytest.mark.parametrize(
    ("total", "weight", "expected"),
    [
        (4, 0, (4, 0)),
        (4, 5, (3, 1)),
        (4, 25, (3, 1)),
        (4, 26, (2, 2)),
        (4, 50, (2, 2)),
        (4, 90, (1, 4)),
        (4, 100, (0, 4)),
        (10, 10, (9, 1)),
        (10, 55, (4, 6)),
        (1, 50, (1, 1)),
        (1, 100, (0, 1)),
    ],
)
def test_replica_split(total, weight, expected):
    assert replica_split(total, weight) == expected


@pytest.mark.parametrize(("total", "weight"), [(0, 10), (3, -1), (3, 101)])
def test_replica_split_refuses_nonsense(total, weight):
    with pytest.raises(ValueError, match=r"at least 1|outside 0\.\.100"):
        replica_split(total, weight)


def test_docstring_examples_hold():
    result = doctest.testmod(blocks.kubernetes.replica_split)
    assert result.attempted >= 2
    assert result.failed == 0
