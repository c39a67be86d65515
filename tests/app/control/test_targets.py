"""The control API's target: `local` from FLOODGATE_HOME, block names through
blocks.target_names, failures as 503s that are retried on the next request."""

from __future__ import annotations

import pytest

from app.control.errors import ControlError
from app.control.targets import TargetProvider, build_target
from blocks.local.target import LocalTarget
from tests.app.control.conftest import control_settings


def test_local_opens_the_stack_in_floodgate_home(tmp_path):
    target = build_target(control_settings(floodgate_home=tmp_path / "home"))
    assert isinstance(target, LocalTarget)
    assert target.settings.state_dir == (tmp_path / "home").resolve()


def test_the_provider_builds_once(tmp_path):
    provider = TargetProvider(control_settings(floodgate_home=tmp_path))
    assert provider.get() is provider.get()


def test_an_unknown_target_type_is_503_listing_the_known_types():
    provider = TargetProvider(control_settings(control_target="floodgate-nomad-target/prod"))
    with pytest.raises(ControlError) as caught:
        provider.get()
    assert caught.value.status == 503
    assert "unknown target type 'floodgate-nomad-target'" in str(caught.value)
    assert "floodgate-kubernetes-target" in str(caught.value)


@pytest.mark.integration
def test_a_block_that_does_not_exist_is_503_naming_it(prefect_server):
    provider = TargetProvider(control_settings(control_target="no-such-block"))
    with pytest.raises(ControlError) as caught:
        provider.get()
    assert caught.value.status == 503
    assert "no target named 'no-such-block'" in str(caught.value)
