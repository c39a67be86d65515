"""Credentials on disk and command lines for each control-plane program, kept apart from the
process life cycle (tests/support/controlplane.py) so the choices are easy to read in one place.

Everything listens on 127.0.0.1. etcd speaks plain HTTP (loopback only, one member, no fsync:
the data is thrown away). The apiserver uses Node,RBAC authorization and a service-account
issuer with a signing key, so the TokenRequest API and RBAC denials behave as in a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support.k8s_pki import CertificateAuthority, service_account_keys
from tests.support.kubeconfig import write_kubeconfig

SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")


@dataclass(frozen=True)
class Layout:
    """Where one cluster keeps its files, all under `workdir`."""

    workdir: Path

    @property
    def pki(self) -> Path:
        return self.workdir / "pki"

    @property
    def ca(self) -> Path:
        return self.pki / "ca.crt"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    def kubeconfig(self, component: str) -> Path:
        return self.workdir / f"{component}.kubeconfig"

    def pem(self, stem: str, suffix: str) -> Path:
        return self.pki / f"{stem}.{suffix}"


def write_credentials(layout: Layout, server_url: str) -> None:
    """A fresh CA, the apiserver's serving cert, client certs and kubeconfigs for the admin and
    the components, the front-proxy identity and the ServiceAccount signing key pair."""
    for sub in ("pki", "logs", "etcd", "apiserver-certs"):
        (layout.workdir / sub).mkdir(parents=True, exist_ok=True)
    ca = CertificateAuthority(layout.pki)
    ca.issue(
        "apiserver", "kube-apiserver",
        server_names=("localhost", "kubernetes", "kubernetes.default",
                      "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"),
        server_ips=("127.0.0.1", "10.96.0.1"),
    )
    identities = {
        "admin": ("floodgate-admin", "system:masters"),
        "kube-controller-manager": ("system:kube-controller-manager", None),
        "kube-scheduler": ("system:kube-scheduler", None),
    }
    for stem, (user, group) in identities.items():
        pair = ca.issue(stem, user, organization=group)
        target = layout.admin_kubeconfig if stem == "admin" else layout.kubeconfig(stem)
        write_kubeconfig(target, server=server_url, ca_path=layout.ca, user=user,
                         client_cert=pair.cert, client_key=pair.key)
    # The aggregation layer's client identity; the components read its CA from the
    # extension-apiserver-authentication ConfigMap and log errors every few seconds without it.
    ca.issue("front-proxy-client", "front-proxy-client")
    service_account_keys(layout.pki)


def etcd_flags(layout: Layout, client_port: int, peer_port: int) -> list[str]:
    peer = f"http://127.0.0.1:{peer_port}"
    client_url = f"http://127.0.0.1:{client_port}"
    return ["--name=test", f"--data-dir={layout.workdir / 'etcd'}",
            f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=test={peer}", "--unsafe-no-fsync", "--log-level=warn"]


def apiserver_flags(layout: Layout, etcd_port: int, secure_port: int) -> list[str]:
    return [
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
        f"--secure-port={secure_port}",
        f"--cert-dir={layout.workdir / 'apiserver-certs'}",
        f"--tls-cert-file={layout.pem('apiserver', 'crt')}",
        f"--tls-private-key-file={layout.pem('apiserver', 'key')}",
        f"--client-ca-file={layout.ca}",
        f"--requestheader-client-ca-file={layout.ca}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={layout.pem('front-proxy-client', 'crt')}",
        f"--proxy-client-key-file={layout.pem('front-proxy-client', 'key')}",
        "--authorization-mode=Node,RBAC",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={layout.pem('sa', 'pub')}",
        f"--service-account-signing-key-file={layout.pem('sa', 'key')}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # Endpoints may not hold loopback addresses, so the "kubernetes" Service gets none.
        "--endpoint-reconciler-type=none",
        "--allow-privileged=true", "--profiling=false",
    ]


def _component_flags(layout: Layout, name: str, health_port: int) -> list[str]:
    kubeconfig = layout.kubeconfig(name)
    return [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
            f"--secure-port={health_port}", f"--cert-dir={layout.workdir / name}",
            "--leader-elect=false"]


def controller_manager_flags(layout: Layout, health_port: int) -> list[str]:
    """Each controller acts as its own ServiceAccount, as kubeadm sets it up."""
    return [*_component_flags(layout, "kube-controller-manager", health_port),
            f"--service-account-private-key-file={layout.pem('sa', 'key')}",
            f"--root-ca-file={layout.ca}", "--use-service-account-credentials=true",
            f"--service-cluster-ip-range={SERVICE_CIDR}"]


def scheduler_flags(layout: Layout, health_port: int) -> list[str]:
    return _component_flags(layout, "kube-scheduler", health_port)


def kwok_flags(layout: Layout, stages: Path) -> list[str]:
    """kwok plays the kubelet only for nodes carrying KWOK_NODE_ANNOTATION."""
    key, value = KWOK_NODE_ANNOTATION
    return [f"--kubeconfig={layout.admin_kubeconfig}", f"--config={stages}",
            "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={key}={value}",
            f"--cidr={POD_CIDR}", "--node-ip=10.0.0.1", "--node-lease-duration-seconds=40"]
