"""Names and labels of everything the target creates for an app, in one place.

Per app `shop` in the target's namespace:

* Deployments `shop-<version>` (one per version), labelled app / version / track; the pods carry
  the app and version labels, which is what Services select on.
* Services `shop` (the entry point; its selector switches between versions), `shop-preview`
  (the candidate only, for blue-green checks) and `shop-canary` (the canary backend of the
  NGINX and Gateway API routers).
* Ingresses `shop` and `shop-canary` (NGINX router), HTTPRoute `shop` (Gateway API router),
  HorizontalPodAutoscaler and PodDisruptionBudget `shop`.
* ConfigMaps `floodgate-app-shop` (definition and stable version), `floodgate-rollout-shop`
  (the current record), `floodgate-history-shop-<id>`, `floodgate-commands-shop`,
  `floodgate-snapshot-shop-<id>`, and the Lease `floodgate-lock-shop`.

Versions become label values as they are (so a Service selector reads like the version), and
DNS names through a slug plus a short hash when the slug differs (`1.2_rc` → `1-2-rc-<hash>`), so
two versions can never share a Deployment.
"""

from __future__ import annotations

import hashlib
import re

from blocks.errors import TargetError

APP = "floodgate.dev/app"
VERSION = "floodgate.dev/version"
TRACK = "floodgate.dev/track"
PART = "floodgate.dev/part"
MANAGED_BY = "app.kubernetes.io/managed-by"
NAME = "app.kubernetes.io/name"
MANAGER = "floodgate"

STABLE_TRACK = "stable"
CANARY_TRACK = "canary"

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def version_label(version: str) -> str:
    """The version as a label value; TargetError if Kubernetes cannot hold it as one."""
    if not version or len(version) > 63 or not _LABEL_VALUE.match(version):
        raise TargetError(
            f"version {version!r} cannot be a Kubernetes label value (at most 63 characters, "
            "alphanumerics, '-', '_' or '.', starting and ending alphanumeric)"
        )
    return version


def dns_slug(version: str) -> str:
    """A DNS-label form of `version`: lower case, '.'/'_' → '-', plus a hash if that changed it.

    >>> dns_slug("v2"), dns_slug("1.2.0"), dns_slug("V2")
    ('v2', '1-2-0-9f7703', 'v2-47cfe5')
    """
    slug = re.sub(r"[^a-z0-9-]", "-", version.lower()).strip("-") or "v"
    if slug == version:
        return slug
    digest = hashlib.sha256(version.encode()).hexdigest()[:6]
    return f"{slug[:50]}-{digest}"


def deployment_name(app: str, version: str) -> str:
    return f"{app}-{dns_slug(version)}"


def service_name(app: str) -> str:
    return app


def preview_service_name(app: str) -> str:
    return f"{app}-preview"


def canary_service_name(app: str) -> str:
    return f"{app}-canary"


def ingress_name(app: str) -> str:
    return app


def canary_ingress_name(app: str) -> str:
    return f"{app}-canary"


def route_name(app: str) -> str:
    return app


def scaling_name(app: str) -> str:
    """HPA and PDB share the app's name; they follow the stable Deployment."""
    return app


def app_config_map(app: str) -> str:
    return f"floodgate-app-{app}"


def record_config_map(app: str) -> str:
    return f"floodgate-rollout-{app}"


def history_config_map(app: str, rollout_id: str) -> str:
    return f"floodgate-history-{app}-{_id_slug(rollout_id)}"


def commands_config_map(app: str) -> str:
    return f"floodgate-commands-{app}"


def snapshot_config_map(app: str, snapshot_id: str) -> str:
    return f"floodgate-snapshot-{app}-{_id_slug(snapshot_id)}"


def lease_name(app: str) -> str:
    return f"floodgate-lock-{app}"


def _id_slug(identifier: str) -> str:
    slug = re.sub(r"[^a-z0-9-]", "-", identifier.lower()).strip("-")
    if not slug or len(slug) > 63:
        raise TargetError(f"id {identifier!r} cannot be part of a Kubernetes object name")
    return slug


def app_labels(app: str) -> dict[str, str]:
    """Labels of every object that belongs to the app (the snapshot scope)."""
    return {APP: app, NAME: app, MANAGED_BY: MANAGER}


def pod_labels(app: str, version: str) -> dict[str, str]:
    """What the pods of one version carry and Services select on."""
    return {APP: app, VERSION: version_label(version)}


def part_labels(app: str, part: str) -> dict[str, str]:
    """Labels of Floodgate's bookkeeping ConfigMaps (never part of a snapshot's objects)."""
    return {PART: part, f"{PART}-of": app, MANAGED_BY: MANAGER}


def part_selector(part: str, app: str | None = None) -> str:
    selector = f"{PART}={part},{MANAGED_BY}={MANAGER}"
    return selector if app is None else f"{selector},{PART}-of={app}"


def app_selector(app: str) -> str:
    return f"{APP}={app},{MANAGED_BY}={MANAGER}"
