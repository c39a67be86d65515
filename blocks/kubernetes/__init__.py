"""The Kubernetes target: Deployments per version, Services, routers, state kept in the cluster.

Public surface (imported lazily, so `blocks.kubernetes.target` works without Prefect):
`KubernetesTarget`, `KubernetesTargetBlock`, `KubernetesApp`, `RouterSettings`,
`EnvAnnotations`, `TargetSettings`, `ROUTERS`. Design: docs/kubernetes.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "KubernetesTarget": "blocks.kubernetes.target",
    "KubernetesTargetBlock": "blocks.kubernetes.block",
    "KubernetesApp": "blocks.kubernetes.app",
    "RouterSettings": "blocks.kubernetes.app",
    "EnvAnnotations": "blocks.kubernetes.app",
    "TargetSettings": "blocks.kubernetes.settings",
    "ROUTERS": "blocks.kubernetes.routers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'blocks.kubernetes' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
