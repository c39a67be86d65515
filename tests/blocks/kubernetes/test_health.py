"""Health of pods: readiness from the API, HTTP when it can reach the app, and which applies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client

from blocks.errors import TargetError
from blocks.kubernetes.health import http_check, judge_http, pod_readiness
from tests.support.k8s_target import TargetFactory, install, shop_app
from tests.support.kwok_stages import NOT_READY_ANNOTATIONS


def pod(conditions: list[dict[str, str]] | None, deleting: bool = False,
        phase: str = "Running") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase, "conditions": conditions}}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (pod([{"type": "Ready", "status": "True"}]), (True, "Ready")),
        (pod([{"type": "Ready", "status": "False", "reason": "ContainersNotReady",
               "message": "probe failed"}]),
         (False, "not Ready: ContainersNotReady: probe failed")),
        (pod([{"type": "Ready", "status": "True"}], deleting=True), (False, "terminating")),
        (pod(None, phase="Pending"), (False, "not Ready: Pending")),
        (pod([{"type": "PodScheduled", "status": "True"}]), (False, "not Ready: Running")),
    ],
)
def test_pod_readiness(given: dict[str, Any], expected: tuple[bool, str]) -> None:
    assert pod_readiness(given) == expected


STATUS = b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"error trying to ' \
         b'reach service: dial tcp 10.244.0.3:8000: connect: connection refused","code":503}'


@pytest.mark.parametrize(
    ("status", "content_type", "body", "outcome"),
    [
        (200, "application/json", b'{"status":"ok"}', "pass"),
        (204, "", b"", "pass"),
        (503, "application/json", b'{"status":"degraded"}', "fail"),
        (500, "text/plain", b"boom", "fail"),
        (503, "application/json", STATUS, "none"),  # the API server could not dial the pod
        (403, "text/plain", b"resolve_deny: denied destination", "none"),  # an egress filter
        (404, "text/html", b"<h1>not found</h1>", "none"),
    ],
)
def test_judge_http(status: int, content_type: str, body: bytes, outcome: str) -> None:
    assert judge_http(status, content_type, body).outcome == outcome


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = {"/health": 200, "/sick": 503}.get(self.path, 404)
        if self.path == "/slow":
            time.sleep(2)
            code = 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "outcome"),
    [("/health", "pass"), ("/sick", "fail"), ("/missing", "none"), ("/slow", "none")],
)
def test_direct_http_check_against_a_real_server(app_server: str, path: str,
                                                 outcome: str) -> None:
    assert http_check(f"{app_server}{path}", timeout=0.5).outcome == outcome


def test_direct_http_check_with_nobody_listening() -> None:
    from tests.support.ports import free_port

    verdict = http_check(f"http://127.0.0.1:{free_port()}/health", timeout=1)
    assert verdict.outcome == "none"
    assert "ConnectError" in verdict.detail


@pytest.mark.k8s
def test_ready_kwok_pods_pass_on_readiness_because_http_is_impossible(
    make_target: TargetFactory,
) -> None:
    """Signal: readiness. kwok pods have no container behind their IP, so the GET through the
    API server's pod proxy cannot reach an app; the probe says so and reports readiness."""
    target = make_target(health_probe="auto")
    install(target, shop_app(), "v1")
    instance = target.instances("shop")[0]
    result = target.probe(instance, "/health", 2.0)
    assert result.ok
    assert result.detail.startswith("Ready (pod Ready condition); HTTP via api-proxy impossible")


@pytest.mark.k8s
def test_unready_and_vanished_pods_fail_the_probe(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target(health_probe="readiness")
    install(target, shop_app(), "v1")
    first, second = target.instances("shop")[:2]
    assert target.probe(first, "/health", 2.0).detail == "Ready (pod Ready condition; HTTP off)"
    core = client.CoreV1Api(admin_api)
    core.patch_namespaced_pod(first.name, namespace,
                              {"metadata": {"annotations": NOT_READY_ANNOTATIONS}})
    deadline = time.monotonic() + 30
    while target.probe(first, "/health", 2.0).ok:
        assert time.monotonic() < deadline, "kwok never marked the pod unready"
        time.sleep(0.1)
    result = target.probe(first, "/health", 2.0)
    assert result.detail.startswith("not Ready: ContainersNotReady")
    core.delete_namespaced_pod(second.name, namespace, grace_period_seconds=0)
    deadline = time.monotonic() + 30
    while (result := target.probe(second, "/health", 2.0)).ok:
        assert time.monotonic() < deadline, "the pod was never deleted"
        time.sleep(0.1)
    assert result.detail in ("pod is gone", "terminating (pod Ready condition)")


def test_an_unknown_probe_mode_is_refused() -> None:
    from blocks.kubernetes.health import Prober

    with pytest.raises(TargetError, match="unknown health probe mode 'http'"):
        Prober(None, "http", in_cluster=False)  # type: ignore[arg-type]
