"""Turn a target name into a live `Target` and its `MetricsSource`.

`local` is built in: the local stack in `$FLOODGATE_HOME` (default `./.floodgate`), usable
without a Prefect API, so `floodgate status` stays fast. Any other name is a saved Prefect Block
of one of Floodgate's target types, written `NAME` or `TYPE/NAME`
(e.g. `floodgate-kubernetes-target/prod`). An unknown name is an error that lists what exists.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from blocks.errors import ConfigurationError
from blocks.metrics import MetricsSource
from blocks.target import Target

LOCAL = "local"

# slug -> "module:ClassName"; imported lazily so `local` never pays for the Kubernetes client.
TARGET_BLOCK_TYPES = {
    "floodgate-local-target": "blocks.local:LocalTargetBlock",
    "floodgate-kubernetes-target": "blocks.kubernetes:KubernetesTargetBlock",
}


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


def _block_class(slug: str) -> Any:
    module, _, cls = TARGET_BLOCK_TYPES[slug].partition(":")
    return getattr(importlib.import_module(module), cls)


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
    slug, _, block_name = name.rpartition("/")
    slugs = [slug] if slug else list(TARGET_BLOCK_TYPES)
    unknown = [s for s in slugs if s not in TARGET_BLOCK_TYPES]
    if unknown:
        raise ConfigurationError(
            f"unknown target type {unknown[0]!r}; known: {', '.join(TARGET_BLOCK_TYPES)}"
        )
    for candidate in slugs:
        try:
            block = _block_class(candidate).load(block_name)
        except ValueError:
            continue
        return Resolved(name, block.get_target(), block.get_metrics_source)
    raise ConfigurationError(
        f"no target named {name!r}: use 'local' or save a block of type "
        f"{' or '.join(TARGET_BLOCK_TYPES)} (e.g. in the Prefect UI)"
    )
