"""The Prefect block opens the stack its state dir describes."""

from __future__ import annotations

from pathlib import Path

from blocks.local.block import LocalTargetBlock
from blocks.local.settings import LocalSettings
from blocks.local.target import LocalTarget


def test_block_follows_the_saved_stack_settings(tmp_path: Path) -> None:
    LocalSettings(state_dir=tmp_path, admin_port=18089, prometheus_port=19090,
                  router="reload").save()
    block = LocalTargetBlock(state_dir=str(tmp_path))
    settings = block.settings()
    assert (settings.admin_port, settings.prometheus_port, settings.router) == \
        (18089, 19090, "reload")
    target = block.get_target()
    assert isinstance(target, LocalTarget)
    assert target.name == "local"
    assert block.get_metrics_source().url == "http://127.0.0.1:19090"


def test_fields_override_and_round_trip(tmp_path: Path) -> None:
    block = LocalTargetBlock(state_dir=str(tmp_path), admin_port=28089)
    assert block.settings().admin_port == 28089
    assert block.settings().prometheus_port == 9090  # default: no stack saved here
    settings = LocalSettings(state_dir=tmp_path, admin_port=1111, prometheus_port=2222)
    assert LocalTargetBlock.from_settings(settings).settings() == settings
