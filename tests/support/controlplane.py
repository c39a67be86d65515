"""A real Kubernetes control plane on loopback for tests: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok (fake kubelets), built from Go modules by
scripts/build-controlplane.sh. No Docker, no containers: pods are scheduled onto kwok nodes and
kwok writes their status, so Deployments, Services, RBAC and CRDs behave as in a cluster.

Use (the `kube_cluster` session fixture in tests/k8s/conftest.py does this)::

    with running_control_plane(tmp_dir) as cluster:
        api = cluster.api_client()                      # admin (system:masters) ApiClient
        cluster.create_namespace("demo")                # waits for its "default" ServiceAccount
        path = cluster.service_account_kubeconfig("demo", "deployer")  # TokenRequest token
        cluster.kubeconfig, cluster.server_url, cluster.ca_path, cluster.node_names

A pod that never becomes Ready (a failing readiness probe): put the annotation
``floodgate.test/kwok-ready: "false"`` (`NOT_READY_ANNOTATIONS`) on the pod or on a Deployment's
pod template. kwok then reports it Running with Ready=False / ContainersReady=False; removing the
annotation from the pod makes it Ready, setting it on a Ready pod makes it unready
(tests/support/kwok_stages.py has the stages).
"""

from __future__ import annotations

import os
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubernetes import client, config

from tests.support.k8s_objects import (
    KWOK_NODE_ANNOTATION,
    crds_established,
    create_kwok_nodes,
    install_crds,
    load_crds,
    nodes_ready,
    service_account_exists,
    wait_until,
)
from tests.support.k8s_pki import CertificateAuthority, service_account_keys
from tests.support.kubeconfig import write_kubeconfig
from tests.support.kwok_stages import NOT_READY_ANNOTATIONS, write_stage_config
from tests.support.managed_process import ManagedProcess
from tests.support.ports import free_port

__all__ = [
    "NOT_READY_ANNOTATIONS",
    "ControlPlane",
    "ControlPlaneMissing",
    "api_client_for",
    "locate_build",
    "running_control_plane",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"


class ControlPlaneMissing(RuntimeError):
    """The binaries are not built: the message says how to build them."""


def locate_build(override: str | None = None) -> Path:
    """The cache directory holding bin/, crds/ and kwok-stages/ for the pinned versions.

    FLOODGATE_CONTROLPLANE_DIR overrides the lookup; otherwise the build script names the
    directory for the versions pinned in k8s/controlplane/ (without building anything).
    """
    override = override or os.environ.get("FLOODGATE_CONTROLPLANE_DIR")
    hint = "build them with: bash scripts/build-controlplane.sh (a cold build takes ~20 min)"
    if override:
        directory = Path(override)
    else:
        try:
            printed = subprocess.run(
                ["bash", str(REPO_ROOT / "scripts/build-controlplane.sh"), "--print-dir"],
                check=True, capture_output=True, text=True, timeout=60,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError) as error:
            message = f"cannot locate the control plane build ({error}); {hint}"
            raise ControlPlaneMissing(message) from error
        directory = Path(printed)
    missing = [name for name in BINARIES if not (directory / "bin" / name).is_file()]
    if missing:
        raise ControlPlaneMissing(f"missing {', '.join(missing)} in {directory}/bin; {hint}")
    return directory


class ControlPlane:
    """One throw-away cluster; `start()` returns when nodes are Ready and CRDs are served."""

    def __init__(self, workdir: Path, build_dir: Path, *, node_count: int = 3) -> None:
        self.workdir = workdir
        self.build_dir = build_dir
        self.node_names = [f"kwok-node-{index}" for index in range(node_count)]
        self.apiserver_port = free_port()
        self.server_url = f"https://127.0.0.1:{self.apiserver_port}"
        self.ca_path = workdir / "pki" / "ca.crt"
        self.kubeconfig = workdir / "admin.kubeconfig"
        self.processes: list[ManagedProcess] = []
        self.startup_seconds: float | None = None

    # --- life cycle -------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        began = time.monotonic()
        deadline = began + timeout
        pki = self._write_credentials()
        etcd_port = free_port()
        self._spawn("etcd", self._etcd_args(etcd_port))
        wait_until(lambda: _http_ok(f"http://127.0.0.1:{etcd_port}/health"),
                   timeout=deadline - time.monotonic(), what="etcd health",
                   check_alive=self._check_alive)
        self._spawn("kube-apiserver", self._apiserver_args(etcd_port, pki))
        admin_tls = _client_tls(self.ca_path, self.workdir / "pki" / "admin")
        wait_until(lambda: _http_ok(f"{self.server_url}/readyz", admin_tls),
                   timeout=deadline - time.monotonic(), what="kube-apiserver /readyz",
                   check_alive=self._check_alive)
        health_ports = {"kube-controller-manager": free_port(), "kube-scheduler": free_port()}
        for name, port in health_ports.items():
            self._spawn(name, self._component_args(name, port))
        stages = write_stage_config(self.build_dir / "kwok-stages", self.workdir / "kwok.yaml")
        self._spawn("kwok", self._kwok_args(stages), env={**os.environ, "HOME": str(self.workdir)})

        api = self.api_client()
        crds = load_crds(self.build_dir / "crds" / "gateway-api")
        install_crds(api, crds)
        create_kwok_nodes(api, self.node_names)
        insecure = ssl._create_unverified_context()  # the components' self-signed serving certs
        waits = [
            ("Gateway API CRDs established", lambda: crds_established(api, crds)),
            ("kwok nodes Ready", lambda: nodes_ready(api, self.node_names)),
            ("ServiceAccount default/default",
             lambda: service_account_exists(api, "default", "default")),
            *[(f"{name} /healthz", lambda port=port: _http_ok(f"https://127.0.0.1:{port}/healthz",
                                                                insecure))
              for name, port in health_ports.items()],
        ]
        for what, condition in waits:
            wait_until(condition, timeout=deadline - time.monotonic(), what=what,
                       check_alive=self._check_alive)
        self.startup_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Stop in reverse start order (clients before the apiserver, etcd last)."""
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def _check_alive(self) -> None:
        for process in self.processes:
            if not process.is_running():
                raise RuntimeError(
                    f"{process.name} exited with {process.exit_code()}; last log lines "
                    f"({process.log_path}):\n{process.log_tail()}"
                )

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        process = ManagedProcess(name, [str(self.build_dir / "bin" / name), *args],
                                 self.workdir / "logs" / f"{name}.log", env)
        process.start()
        self.processes.append(process)

    # --- clients ----------------------------------------------------------------------------

    def api_client(self) -> client.ApiClient:
        """A fresh admin ApiClient (user floodgate-admin in group system:masters)."""
        return api_client_for(self.kubeconfig)

    def service_account_token(
        self, namespace: str, name: str, expiration_seconds: int = 3600
    ) -> str:
        """A bound token for the ServiceAccount, from the TokenRequest API."""
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=expiration_seconds)
        )
        with self.api_client() as api:
            response = client.CoreV1Api(api).create_namespaced_service_account_token(
                name, namespace, request
            )
        if response.status is None or not response.status.token:
            raise RuntimeError(f"TokenRequest for {namespace}/{name} returned no token")
        return response.status.token

    def service_account_kubeconfig(
        self, namespace: str, name: str, path: Path | None = None, expiration_seconds: int = 3600
    ) -> Path:
        """A kubeconfig that acts as ServiceAccount `namespace/name` (default ns: its own)."""
        token = self.service_account_token(namespace, name, expiration_seconds)
        target = path or self.workdir / f"sa-{namespace}-{name}.kubeconfig"
        return write_kubeconfig(target, server=self.server_url, ca_path=self.ca_path,
                                user=f"system:serviceaccount:{namespace}:{name}",
                                token=token, namespace=namespace)

    def create_namespace(self, name: str, timeout: float = 30.0) -> None:
        """Create a namespace and wait for its "default" ServiceAccount, without which the
        ServiceAccount admission plugin refuses pods (the controller-manager adds it)."""
        with self.api_client() as api:
            body = client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
            client.CoreV1Api(api).create_namespace(body)
            wait_until(lambda: service_account_exists(api, name, "default"), timeout=timeout,
                       what=f"ServiceAccount {name}/default", check_alive=self._check_alive)

    # --- configuration ----------------------------------------------------------------------

    def _write_credentials(self) -> dict[str, Path]:
        pki_dir = self.workdir / "pki"
        for sub in ("pki", "logs", "etcd", "apiserver-certs"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        ca = CertificateAuthority(pki_dir)
        serving = ca.issue(
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
            kubeconfig = self.kubeconfig if stem == "admin" else self.workdir / f"{stem}.kubeconfig"
            write_kubeconfig(kubeconfig, server=self.server_url, ca_path=self.ca_path, user=user,
                             client_cert=pair.cert, client_key=pair.key)
        # The aggregation layer's client identity; components read its CA from the
        # extension-apiserver-authentication ConfigMap and log errors every few seconds without it.
        front_proxy = ca.issue("front-proxy-client", "front-proxy-client")
        sa = service_account_keys(pki_dir)
        return {"serving-cert": serving.cert, "serving-key": serving.key,
                "front-proxy-cert": front_proxy.cert, "front-proxy-key": front_proxy.key,
                "sa-public": sa.cert, "sa-private": sa.key}

    def _etcd_args(self, client_port: int) -> list[str]:
        peer = f"http://127.0.0.1:{free_port()}"
        client_url = f"http://127.0.0.1:{client_port}"
        return ["--name=test", f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=test={peer}", "--unsafe-no-fsync", "--log-level=warn"]

    def _apiserver_args(self, etcd_port: int, pki: dict[str, Path]) -> list[str]:
        return [
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.apiserver_port}",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki['serving-cert']}",
            f"--tls-private-key-file={pki['serving-key']}",
            f"--client-ca-file={self.ca_path}",
            f"--requestheader-client-ca-file={self.ca_path}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki['front-proxy-cert']}",
            f"--proxy-client-key-file={pki['front-proxy-key']}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki['sa-public']}",
            f"--service-account-signing-key-file={pki['sa-private']}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # Endpoints may not hold loopback addresses, so the "kubernetes" Service gets none.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true", "--profiling=false",
        ]

    def _component_args(self, name: str, health_port: int) -> list[str]:
        kubeconfig = self.workdir / f"{name}.kubeconfig"
        common = [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                  f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
                  f"--secure-port={health_port}", f"--cert-dir={self.workdir / name}",
                  "--leader-elect=false"]
        if name == "kube-scheduler":
            return common
        return [*common, f"--service-account-private-key-file={self.workdir / 'pki' / 'sa.key'}",
                f"--root-ca-file={self.ca_path}", "--use-service-account-credentials=true",
                f"--service-cluster-ip-range={SERVICE_CIDR}"]

    def _kwok_args(self, stages: Path) -> list[str]:
        key, value = KWOK_NODE_ANNOTATION
        return [f"--kubeconfig={self.kubeconfig}", f"--config={stages}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={key}={value}",
                f"--cidr={POD_CIDR}", "--node-ip=10.0.0.1", "--node-lease-duration-seconds=40"]


def api_client_for(kubeconfig: Path) -> client.ApiClient:
    """An ApiClient that authenticates as the kubeconfig says (cert or ServiceAccount token)."""
    api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig)
    )
    return api


def _client_tls(ca_path: Path, stem: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_path))
    context.load_cert_chain(str(stem.with_suffix(".crt")), str(stem.with_suffix(".key")))
    return context


def _http_ok(url: str, tls: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=tls) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running_control_plane(workdir: Path, *, node_count: int = 3) -> Iterator[ControlPlane]:
    """Start a cluster for the block and stop every process afterwards, even on failure."""
    cluster = ControlPlane(workdir, locate_build(), node_count=node_count)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
