"""The table of target block types shared by flows.targets and app.control.targets."""

from __future__ import annotations

import pytest

from blocks.errors import ConfigurationError
from blocks.target_names import TARGET_BLOCK_TYPES, block_class, load_target_block


def test_every_registered_type_is_importable_and_has_its_slug():
    for slug in TARGET_BLOCK_TYPES:
        assert block_class(slug).get_block_type_slug() == slug


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="unknown target type 'nomad'") as caught:
        load_target_block("nomad/prod")
    assert all(slug in str(caught.value) for slug in TARGET_BLOCK_TYPES)


@pytest.mark.integration
def test_a_name_no_block_has_is_refused_with_how_to_make_one(prefect_server):
    with pytest.raises(ConfigurationError, match="no target named 'ghost'"):
        load_target_block("ghost")
