"""Target names → target blocks: the one table of Floodgate's target block types.

Shared by the flows (`flows.targets.resolve`) and the control API (`app.control.targets`), which
must not import `flows/`: both accept the same names, so a name that works in the Prefect UI
works in the API, and a new target type is added in one place.

`local` is built in (the stack in a state directory). Any other name is a saved Prefect Block of
one of the types below, written `NAME` or `TYPE/NAME` (e.g. `floodgate-kubernetes-target/prod`).
"""

from __future__ import annotations

import importlib
from typing import Any

from blocks.errors import ConfigurationError
from blocks.target import TargetBlock

LOCAL = "local"

# slug -> "module:ClassName"; imported lazily so `local` never pays for the Kubernetes client.
TARGET_BLOCK_TYPES = {
    "floodgate-local-target": "blocks.local:LocalTargetBlock",
    "floodgate-kubernetes-target": "blocks.kubernetes:KubernetesTargetBlock",
}


def block_class(slug: str) -> Any:
    """The Block class registered under `slug` (a key of `TARGET_BLOCK_TYPES`)."""
    module, _, cls = TARGET_BLOCK_TYPES[slug].partition(":")
    return getattr(importlib.import_module(module), cls)


def load_target_block(name: str) -> TargetBlock:
    """The saved block called `name` (`NAME` or `TYPE/NAME`); ConfigurationError if none.

    Loading reads the Prefect API (`PREFECT_API_URL`): errors reaching it propagate as they are.
    """
    slug, _, block_name = name.rpartition("/")
    slugs = [slug] if slug else list(TARGET_BLOCK_TYPES)
    unknown = [s for s in slugs if s not in TARGET_BLOCK_TYPES]
    if unknown:
        raise ConfigurationError(
            f"unknown target type {unknown[0]!r}; known: {', '.join(TARGET_BLOCK_TYPES)}"
        )
    for candidate in slugs:
        try:
            block: TargetBlock = block_class(candidate).load(block_name)
        except ValueError:
            continue
        return block
    raise ConfigurationError(
        f"no target named {name!r}: use {LOCAL!r} or save a block of type "
        f"{' or '.join(TARGET_BLOCK_TYPES)} (e.g. in the Prefect UI)"
    )
