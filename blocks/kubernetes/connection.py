"""How the target reaches the cluster: a kubeconfig (file or inline) or the in-cluster account.

Exactly one source is used, in this order of precedence being an error rather than a guess:
`in_cluster=True` (the pod's ServiceAccount token and CA), an inline kubeconfig (YAML text, a
secret), a kubeconfig path; with none of them, the client's default lookup (`$KUBECONFIG`,
`~/.kube/config`). The namespace, when not configured, is the kubeconfig context's namespace,
or the pod's own namespace in-cluster, else `default`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import config
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException

from blocks.errors import ConfigurationError

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class ClusterAccess:
    kubeconfig_path: str | None = None
    kubeconfig_yaml: str | None = None
    in_cluster: bool = False
    context: str | None = None
    namespace: str | None = None

    def check(self) -> None:
        sources = [bool(self.kubeconfig_path), bool(self.kubeconfig_yaml), self.in_cluster]
        if sum(sources) > 1:
            raise ConfigurationError(
                "configure one of kubeconfig_path, kubeconfig (inline) or in_cluster, not several"
            )
        if self.in_cluster and self.context:
            raise ConfigurationError("context applies to a kubeconfig, not to in_cluster access")


def connect(access: ClusterAccess) -> tuple[ApiClient, str]:
    """(ApiClient, namespace) for `access`; ConfigurationError naming what is wrong."""
    access.check()
    configuration = Configuration()
    try:
        if access.in_cluster:
            config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
            return ApiClient(configuration), access.namespace or _in_cluster_namespace()
        document = _kubeconfig_document(access)
        config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
            document, context=access.context, client_configuration=configuration
        )
    except ConfigException as exc:
        raise ConfigurationError(f"cannot load Kubernetes credentials: {exc}") from exc
    return ApiClient(configuration), access.namespace or _context_namespace(document,
                                                                           access.context)


def _kubeconfig_document(access: ClusterAccess) -> dict[str, Any]:
    if access.kubeconfig_yaml:
        text, where = access.kubeconfig_yaml, "the inline kubeconfig"
    else:
        path = Path(access.kubeconfig_path or _default_kubeconfig()).expanduser()
        where = str(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigurationError(f"cannot read kubeconfig {path}: {exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{where} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigurationError(f"{where} is not a kubeconfig document")
    return document


def _default_kubeconfig() -> str:
    import os

    return os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"


def _context_namespace(document: dict[str, Any], context: str | None) -> str:
    wanted = context or document.get("current-context")
    for entry in document.get("contexts") or []:
        if entry.get("name") == wanted:
            return str((entry.get("context") or {}).get("namespace") or "default")
    return "default"


def _in_cluster_namespace() -> str:
    try:
        return IN_CLUSTER_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"
