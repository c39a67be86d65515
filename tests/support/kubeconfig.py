"""Kubeconfig files for the test control plane: admin and components (client certs) and
ServiceAccounts (bearer tokens), so code under test reads credentials as it would in a cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    ca_path: Path,
    user: str,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    token: str | None = None,
    namespace: str | None = None,
) -> Path:
    """Write a single-context kubeconfig that authenticates with a client cert or a token."""
    if (client_cert is None) != (client_key is None):
        raise ValueError("client_cert and client_key go together")
    if (client_cert is None) == (token is None):
        raise ValueError("give exactly one credential: a client cert/key pair or a token")
    credentials: dict[str, Any] = {}
    if token is not None:
        credentials["token"] = token
    else:
        credentials["client-certificate"] = str(client_cert)
        credentials["client-key"] = str(client_key)
    context: dict[str, Any] = {"cluster": "floodgate-test", "user": user}
    if namespace is not None:
        context["namespace"] = namespace
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "floodgate-test",
                "cluster": {"server": server, "certificate-authority": str(ca_path)},
            }
        ],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": user, "context": context}],
        "current-context": user,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    path.chmod(0o600)
    return path
