"""Validate rendered manifests against the Kubernetes OpenAPI schemas (kubernetes-validate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kubernetes_validate

KUBERNETES_VERSION = kubernetes_validate.utils.latest_version()


def assert_valid_manifest(manifest: Mapping[str, Any]) -> None:
    """Strict validation (unknown fields are errors); fails with the schema's short message."""
    try:
        kubernetes_validate.validate(dict(manifest), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        raise AssertionError(
            f"{manifest.get('kind')} invalid for Kubernetes {KUBERNETES_VERSION}: "
            f"{error.message} at {list(error.path)}"
        ) from None
