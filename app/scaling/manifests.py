"""Helpers shared by the manifest builders: name checks and the YAML renderer.

Builders return plain dicts (what the Kubernetes client applies); `to_yaml()` renders any number
of them as one multi-document file for `kubectl apply -f` or review.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def dns_label(field: str, value: str) -> str:
    """Return `value` if it is a valid Kubernetes object name (RFC 1123 label), else raise."""
    if _DNS_LABEL.fullmatch(value) is None:
        raise ValueError(
            f"{field} must be a DNS label (lower-case alphanumerics and '-', at most 63, "
            f"starting and ending alphanumeric), got {value!r}"
        )
    return value


def to_yaml(*manifests: Mapping[str, Any]) -> str:
    """Render manifests as a multi-document YAML stream, keys in builder order."""
    return yaml.safe_dump_all([dict(m) for m in manifests], sort_keys=False)
