"""The object kinds the Kubernetes target reads and writes, and where each lives in the API.

One table instead of one typed client per kind: the target treats objects as plain manifests
(what it applies, snapshots and restores), so it only needs each kind's URL. `APP_KINDS` is the
set a snapshot covers, in the order a restore applies them (workloads before the objects that
route to them); deletion of objects that must go runs in the reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """A namespaced kind: `apiVersion`, `kind` and the plural its URL uses."""

    api_version: str
    kind: str
    plural: str

    def collection(self, namespace: str) -> str:
        """`/api/v1/namespaces/ns/pods`, `/apis/apps/v1/namespaces/ns/deployments`, ..."""
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        return f"{prefix}/namespaces/{namespace}/{self.plural}"

    def item(self, namespace: str, name: str) -> str:
        return f"{self.collection(namespace)}/{name}"


DEPLOYMENT = Kind("apps/v1", "Deployment", "deployments")
SERVICE = Kind("v1", "Service", "services")
INGRESS = Kind("networking.k8s.io/v1", "Ingress", "ingresses")
HTTP_ROUTE = Kind("gateway.networking.k8s.io/v1", "HTTPRoute", "httproutes")
HPA = Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")
PDB = Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets")
CONFIG_MAP = Kind("v1", "ConfigMap", "configmaps")
POD = Kind("v1", "Pod", "pods")
LEASE = Kind("coordination.k8s.io/v1", "Lease", "leases")

# What an app consists of on the cluster (snapshot scope), in restore order.
APP_KINDS: tuple[Kind, ...] = (DEPLOYMENT, SERVICE, INGRESS, HTTP_ROUTE, HPA, PDB)

BY_KIND: dict[str, Kind] = {
    k.kind: k for k in (*APP_KINDS, CONFIG_MAP, POD, LEASE)
}


def kind_of(manifest: dict[str, object]) -> Kind:
    """The table entry for a manifest; KeyError-free: unknown kinds raise ValueError."""
    name = manifest.get("kind")
    version = manifest.get("apiVersion")
    kind = BY_KIND.get(str(name))
    if kind is None or kind.api_version != version:
        raise ValueError(f"unsupported object {version}/{name}")
    return kind
