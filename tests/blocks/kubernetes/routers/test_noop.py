"""none: whole switches through the entry Service; a split is refused, not faked."""

from __future__ import annotations

import pytest

from blocks.errors import TargetError
from tests.blocks.kubernetes.routers._cluster import with_candidate
from tests.support.k8s_target import TargetFactory


@pytest.mark.k8s
def test_router_none_switches_but_refuses_to_split(make_target: TargetFactory) -> None:
    target = with_candidate(make_target, "none")
    with pytest.raises(TargetError, match="router 'none' cannot send 10% to v2"):
        target.set_weights("shop", {"v1": 90, "v2": 10})
    assert target.get_weights("shop") == {"v1": 100}
    target.set_weights("shop", {"v2": 100})
    assert target.get_weights("shop") == {"v2": 100}
