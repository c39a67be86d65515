"""Turn a target name into a live `Target` and its `MetricsSource`.

`local` is built in: the local stack in `$FLOODGATE_HOME` (default `./.floodgate`), usable
without a Prefect API, so `floodgate status` stays fast. Any other name is a saved Prefect Block
of one of Floodgate's target types, written `NAME` or `TYPE/NAME`
(e.g. `floodgate-kubernetes-target/prod`). An unknown name is an error that lists what exists.
The table of block types lives in `blocks.target_names`, shared with the control API.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from blocks.metrics import MetricsSource
from blocks.target import Target
from blocks.target_names import LOCAL, TARGET_BLOCK_TYPES, load_target_block

__all__ = ["LOCAL", "TARGET_BLOCK_TYPES", "Resolved", "local_home", "resolve"]


@dataclass(frozen=True)
class Resolved:
    """A live target and (built on first use, it imports Prefect) its metrics source."""

    name: str
    target: Target
    metrics_factory: Callable[[], MetricsSource]

    @cached_property
    def metrics(self) -> MetricsSource:
        return self.metrics_factory()


def local_home() -> Path:
    """`$FLOODGATE_HOME`, else `./.floodgate` (the local target's own default)."""
    return Path(os.environ.get("FLOODGATE_HOME", ".floodgate")).expanduser().resolve()


def resolve(name: str) -> Resolved:
    """The target called `name` and its metrics source; ConfigurationError if there is none."""
    if name == LOCAL:
        from blocks.local.settings import LocalSettings
        from blocks.local.target import LocalTarget

        settings = LocalSettings.load(local_home())

        def local_metrics() -> MetricsSource:
            from blocks.prometheus import PrometheusMetricsSource

            return PrometheusMetricsSource(f"http://127.0.0.1:{settings.prometheus_port}")

        return Resolved(name, LocalTarget(settings), local_metrics)
    block = load_target_block(name)
    return Resolved(name, block.get_target(), block.get_metrics_source)
