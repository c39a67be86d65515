"""`KubeApi`: plain-manifest access to one namespace through the official client's `ApiClient`.

The target works with manifests as dicts (it renders, applies, snapshots and restores them), so
it talks REST through the client's request machinery — auth, TLS and retries come from
`kubernetes.client` — rather than through one typed API class per kind.

Writes of objects Floodgate owns use server-side apply with the field manager `floodgate` and
`force=True`: Floodgate is the controller of these objects, so a field someone else changed
(`kubectl scale`, an HPA) is taken back instead of failing the rollout. Locks and queues need
compare-and-swap, which apply does not offer; they use create/replace with `resourceVersion`.

Every failure becomes a `TargetError` naming the verb, the object and the API server's reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from blocks.errors import TargetError
from blocks.kubernetes.kinds import Kind, kind_of

JSON = dict[str, Any]
FIELD_MANAGER = "floodgate"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


class ApiFailure(TargetError):
    """The API server refused or failed a request; `status` is its HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class Conflict(ApiFailure):
    """409: the object exists already, or changed since it was read (optimistic concurrency)."""


@dataclass(frozen=True)
class RawAnswer:
    """An HTTP answer relayed by the API server (the pod proxy)."""

    status: int
    content_type: str
    body: bytes


class KubeApi:
    """get / list / apply / create / replace / patch / delete of manifests in one namespace."""

    def __init__(
        self,
        api_client: ApiClient,
        namespace: str,
        *,
        field_manager: str = FIELD_MANAGER,
        request_timeout: float = 30.0,
    ) -> None:
        self.client = api_client
        self.namespace = namespace
        self.field_manager = field_manager
        self.request_timeout = request_timeout

    # Reads -------------------------------------------------------------------------------------

    def get(self, kind: Kind, name: str) -> JSON | None:
        """The object, or None if it does not exist (or the kind is not served, e.g. no CRD)."""
        try:
            return self._call("GET", kind.item(self.namespace, name),
                              what=f"get {kind.kind} {name}")
        except ApiFailure as failure:
            if failure.status == 404:
                return None
            raise

    def list_objects(self, kind: Kind, selector: str | None = None) -> list[JSON]:
        """Objects of `kind` matching the label selector; [] when the kind is not served."""
        query = [("labelSelector", selector)] if selector else []
        try:
            found = self._call(
                "GET", kind.collection(self.namespace), query=query, what=f"list {kind.plural}"
            )
        except ApiFailure as failure:
            if failure.status == 404:  # the API (a CRD such as HTTPRoute) is not installed
                return []
            raise
        items: list[JSON] = found.get("items") or []
        for item in items:  # list items carry no apiVersion/kind of their own
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.kind)
        return items

    # Writes ------------------------------------------------------------------------------------

    def apply(self, manifest: JSON, *, dry_run: bool = False) -> JSON:
        """Server-side apply as `floodgate` (force: Floodgate owns these objects)."""
        kind = kind_of(manifest)
        name = manifest["metadata"]["name"]
        body = {**manifest, "metadata": {**manifest["metadata"], "namespace": self.namespace}}
        query: list[tuple[str, str]] = [("fieldManager", self.field_manager), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        return self._call(
            "PATCH", kind.item(self.namespace, name), query=query, body=body,
            content_type=APPLY, what=f"apply {kind.kind} {name}",
        )

    def create(self, manifest: JSON) -> JSON:
        """Create; `Conflict` if it exists (create-if-absent, for locks)."""
        kind = kind_of(manifest)
        body = {**manifest, "metadata": {**manifest["metadata"], "namespace": self.namespace}}
        return self._call(
            "POST", kind.collection(self.namespace), body=body,
            query=[("fieldManager", self.field_manager)],
            what=f"create {kind.kind} {manifest['metadata']['name']}",
        )

    def replace(self, manifest: JSON) -> JSON:
        """PUT with the manifest's resourceVersion; `Conflict` if the object changed meanwhile."""
        kind = kind_of(manifest)
        name = manifest["metadata"]["name"]
        return self._call(
            "PUT", kind.item(self.namespace, name), body=manifest,
            query=[("fieldManager", self.field_manager)], what=f"replace {kind.kind} {name}",
        )

    def merge_patch(self, kind: Kind, name: str, patch: JSON) -> JSON:
        """JSON merge patch; a `metadata.resourceVersion` in it is a precondition (409)."""
        return self._call(
            "PATCH", kind.item(self.namespace, name), body=patch, content_type=MERGE,
            query=[("fieldManager", self.field_manager)], what=f"patch {kind.kind} {name}",
        )

    def delete(self, kind: Kind, name: str) -> bool:
        """Delete (background propagation); False if it was already gone."""
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        try:
            self._call("DELETE", kind.item(self.namespace, name), body=body,
                       what=f"delete {kind.kind} {name}")
        except ApiFailure as failure:
            if failure.status == 404:
                return False
            raise
        return True

    # Pod proxy ---------------------------------------------------------------------------------

    def proxy_get(self, pod: str, port: int, path: str, timeout: float) -> RawAnswer:
        """GET `path` on `pod:port` through the API server's pod proxy (needs pods/proxy)."""
        url = f"/api/v1/namespaces/{self.namespace}/pods/{pod}:{port}/proxy{path}"
        method, full_url, headers, body, _ = self.client.param_serialize(
            method="GET", resource_path=url, auth_settings=["BearerToken"]
        )
        try:
            response = self.client.call_api(method, full_url, headers, body,
                                            _request_timeout=timeout)
            data = response.read() or b""  # type: ignore[no-untyped-call]
        except (HTTPError, ApiException, OSError) as exc:
            raise ApiFailure(f"proxy GET {pod}:{port}{path}: {type(exc).__name__}: {exc}",
                             None) from exc
        content_type = response.headers.get("Content-Type", "") if response.headers else ""
        return RawAnswer(int(response.status), str(content_type), bytes(data))

    # Plumbing ----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        query: list[tuple[str, str]] | None = None,
        body: JSON | None = None,
        content_type: str | None = None,
    ) -> JSON:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        method, url, headers, serialized, _ = self.client.param_serialize(
            method=method, resource_path=path, query_params=query or [],
            header_params=headers, body=body, auth_settings=["BearerToken"],
        )
        try:
            response = self.client.call_api(method, url, headers, serialized,
                                            _request_timeout=self.request_timeout)
            data = response.read() or b""  # type: ignore[no-untyped-call]
        except (HTTPError, ApiException, OSError) as exc:
            raise ApiFailure(f"{what} in {self.namespace}: API server unreachable: "
                             f"{type(exc).__name__}: {exc}", None) from exc
        status = int(response.status)
        if 200 <= status < 300:
            return _decode(data)
        message = _status_message(data) or response.reason or ""
        error = Conflict if status == 409 else ApiFailure
        raise error(f"{what} in namespace {self.namespace}: {status} {message}", status)


def _decode(data: bytes) -> JSON:
    if not data:
        return {}
    decoded = json.loads(data)
    return decoded if isinstance(decoded, dict) else {"value": decoded}


def _status_message(data: bytes) -> str:
    """The `message` of a Kubernetes Status body, else the raw text (shortened)."""
    try:
        status = json.loads(data)
    except ValueError:
        return data[:300].decode(errors="replace")
    if isinstance(status, dict) and status.get("message"):
        return str(status["message"])
    return data[:300].decode(errors="replace")
