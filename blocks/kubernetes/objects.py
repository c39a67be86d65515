"""An app's objects as a snapshot holds them: what was asked for, not what the server added.

`clean` keeps apiVersion, kind, name, labels, annotations and spec, and drops what the API
server owns (uid, resourceVersion, generation, timestamps, managedFields, status, the
Deployment revision annotation, a Service's allocated cluster IPs). Applying a cleaned object
back makes the object what it was; objects the server would refuse to take back verbatim are
exactly the fields removed here.
"""

from __future__ import annotations

import copy
from typing import Any

from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.kinds import APP_KINDS, kind_of

JSON = dict[str, Any]
SERVER_ANNOTATIONS = frozenset({
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
})
SERVER_SPEC_FIELDS = {"Service": ("clusterIP", "clusterIPs")}


def clean(manifest: JSON) -> JSON:
    meta = manifest.get("metadata", {})
    kept: JSON = {"name": meta["name"]}
    if meta.get("labels"):
        kept["labels"] = dict(meta["labels"])
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS
    }
    if annotations:
        kept["annotations"] = annotations
    spec = copy.deepcopy(manifest.get("spec") or {})
    for field in SERVER_SPEC_FIELDS.get(str(manifest.get("kind")), ()):
        spec.pop(field, None)
    template_meta = spec.get("template", {}).get("metadata")
    if isinstance(template_meta, dict):
        template_meta.pop("creationTimestamp", None)
    return {"apiVersion": manifest["apiVersion"], "kind": manifest["kind"], "metadata": kept,
            "spec": spec}


def object_key(manifest: JSON) -> tuple[int, str]:
    """Sort key: kinds in restore order, then name."""
    kind = kind_of(manifest)
    return APP_KINDS.index(kind), str(manifest["metadata"]["name"])


def collect(api: KubeApi, app: str) -> list[JSON]:
    """Every object of the app (APP_KINDS with the app's labels), cleaned, in restore order."""
    selector = names.app_selector(app)
    found = [clean(item) for kind in APP_KINDS for item in api.list_objects(kind, selector)]
    return sorted(found, key=object_key)
