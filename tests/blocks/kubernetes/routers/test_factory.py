"""The router factory (routers/__init__.py): an explicit dict; unknown names list the valid."""

from __future__ import annotations

import pytest

from blocks.errors import ConfigurationError
from blocks.kubernetes.routers import ROUTERS, check_router_name
from blocks.kubernetes.settings import TargetSettings
from blocks.kubernetes.target import KubernetesTarget


def test_every_router_is_registered_under_its_own_name() -> None:
    assert sorted(ROUTERS) == ["gateway-api", "nginx", "none", "replica-ratio"]
    assert all(check_router_name(name) == name for name in ROUTERS)


def test_an_unknown_router_lists_the_valid_ones() -> None:
    expected = "unknown router 'istio'; valid routers: gateway-api, nginx, none, replica-ratio"
    with pytest.raises(ConfigurationError, match=expected):
        check_router_name("istio")
    with pytest.raises(ConfigurationError, match=expected):
        KubernetesTarget(None, "ns", TargetSettings(router="istio"))  # type: ignore[arg-type]
