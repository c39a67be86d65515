"""Turn a target name into a live `Target` and its `MetricsSource`.

`local` is built in: the local stack in `$FLOODGATE_HOME` (default `./.floodgate`), usable
without a Prefect API, so `floodgate status` stays fast. Any other name is a saved Prefect Block
of one of Floodgate's target types, written `NAME` or `TYPE/NAME`
(e.g. `floodgate-kubernetes-target/prod`). An unknown name is an error that lists what exists.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
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
    name: str
    target: Target
    metrics: MetricsSource


def local_home() -> Path:
    return Path(os.environ.get("FLOODGATE_HOME", ".floodgate")).resolve()


def _block_class(slug: str) -> Any:
    module, _, cls = TARGET_BLOCK_TYPES[slug].partition(":")
    return getattr(importlib.import_module(module), cls)


def resolve(name: str) -> Resolved:
    """The target called `name` and its metrics source; ConfigurationError if there is none."""
    if name == LOCAL:
        block = _block_class("floodgate-local-target")(state_dir=str(local_home()))
        return Resolved(name, block.get_target(), block.get_metrics_source())
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
        return Resolved(name, block.get_target(), block.get_metrics_source())
    raise ConfigurationError(
        f"no target named {name!r}: use 'local' or save a block of type "
        f"{' or '.join(TARGET_BLOCK_TYPES)} (e.g. in the Prefect UI)"
    )
