"""A real Kubernetes control plane on loopback for tests: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok (fake kubelets), built from Go modules by
scripts/build-controlplane.sh. No Docker, no containers: pods are scheduled onto kwok nodes and
kwok writes their status, so Deployments, Services, RBAC and CRDs behave as in a cluster.

Use (the `kube_cluster` session fixture in tests/conftest.py does this)::

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

from tests.support.controlplane_flags import (
    Layout,
    apiserver_flags,
    controller_manager_flags,
    etcd_flags,
    kwok_flags,
    scheduler_flags,
    write_credentials,
)
from tests.support.k8s_objects import (
    crds_established,
    create_kwok_nodes,
    install_crds,
    load_crds,
    nodes_ready,
    service_account_exists,
    wait_until,
)
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


class ControlPlaneMissing(RuntimeError):
    """The binaries are not built: the message says how to build them."""


def locate_build(override: str | None = None) -> Path:
    """The cache directory holding bin/, crds/ and kwok-stages/ for the pinned versions.

    FLOODGATE_CONTROLPLANE_DIR overrides the lookup; otherwise the build script names the
    directory for the versions pinned in k8s/controlplane/ (without building anything).
    """
    override = override or os.environ.get("FLOODGATE_CONTROLPLANE_DIR")
    hint = "build them with: bash scripts/build-controlplane.sh (a cold build takes ~7 min)"
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
        self.layout = Layout(workdir)
        self.ca_path = self.layout.ca
        self.kubeconfig = self.layout.admin_kubeconfig
        self.processes: list[ManagedProcess] = []
        self.startup_seconds: float | None = None

    # --- life cycle -------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        began = time.monotonic()
        deadline = began + timeout
        layout = self.layout
        write_credentials(layout, self.server_url)
        etcd_port = free_port()
        self._spawn("etcd", etcd_flags(layout, etcd_port, free_port()))
        wait_until(lambda: _http_ok(f"http://127.0.0.1:{etcd_port}/health"),
                   timeout=deadline - time.monotonic(), what="etcd health",
                   check_alive=self._check_alive)
        self._spawn("kube-apiserver", apiserver_flags(layout, etcd_port, self.apiserver_port))
        admin_tls = _client_tls(layout.ca, layout.pem("admin", "crt"), layout.pem("admin", "key"))
        wait_until(lambda: _http_ok(f"{self.server_url}/readyz", admin_tls),
                   timeout=deadline - time.monotonic(), what="kube-apiserver /readyz",
                   check_alive=self._check_alive)
        health_ports = {"kube-controller-manager": free_port(), "kube-scheduler": free_port()}
        self._spawn("kube-controller-manager",
                    controller_manager_flags(layout, health_ports["kube-controller-manager"]))
        self._spawn("kube-scheduler", scheduler_flags(layout, health_ports["kube-scheduler"]))
        stages = write_stage_config(self.build_dir / "kwok-stages", self.workdir / "kwok.yaml")
        # kwok also reads ~/.kwok/kwok.yaml when it exists: give it a HOME of its own.
        kwok_env = {**os.environ, "HOME": str(self.workdir)}
        self._spawn("kwok", kwok_flags(layout, stages), env=kwok_env)

        with self.api_client() as api:
            self._bootstrap(api, health_ports, deadline)
        self.startup_seconds = time.monotonic() - began

    def _bootstrap(
        self, api: client.ApiClient, health_ports: dict[str, int], deadline: float
    ) -> None:
        """Install the Gateway API CRDs, add the kwok nodes, then wait for all to be usable."""
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


def api_client_for(kubeconfig: Path) -> client.ApiClient:
    """An ApiClient that authenticates as the kubeconfig says (cert or ServiceAccount token)."""
    api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig)
    )
    return api


def _client_tls(ca_path: Path, cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_path))
    context.load_cert_chain(str(cert), str(key))
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
