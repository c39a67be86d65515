"""Health of one pod: readiness from the API, plus an HTTP check when one can reach the app.

Which signal applies when:

* **Readiness** (always): the pod's `Ready` condition. The kubelet sets it from the readiness
  probe on the app's health path, so a Ready pod answered that path from inside the cluster.
  A pod that is not Ready fails the probe, whatever HTTP would say.
* **HTTP** (modes `direct` and `api-proxy`; `auto` picks `direct` when the orchestrator runs in
  the cluster — in-cluster config — and `api-proxy` outside it): a GET of the health path, either
  straight to the pod IP or through the API server's pod proxy (`pods/proxy`, so no network
  route to the pods is needed). 2xx/3xx confirms, 5xx from the app fails the pod.
* When HTTP is impossible — no answer from the app at all: the API server could not dial the pod
  (its error is a `Status` object), something between refused (403 from an egress filter), or a
  timeout — the result is the readiness signal, and the detail says HTTP was impossible and why.
  That is the case on kwok test clusters, whose pods have no containers behind their IPs.
* Mode `readiness` skips HTTP entirely.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from blocks.errors import TargetError
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.kinds import POD
from blocks.target import Instance, ProbeResult

JSON = dict[str, Any]
ProbeMode = Literal["auto", "api-proxy", "direct", "readiness"]
PROBE_MODES: tuple[str, ...] = ("auto", "api-proxy", "direct", "readiness")


def pod_readiness(pod: JSON) -> tuple[bool, str]:
    """(ready, why) from the pod's conditions; terminating pods are never ready."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False, "terminating"
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            if condition.get("status") == "True":
                return True, "Ready"
            reason = condition.get("reason") or "NotReady"
            message = condition.get("message") or ""
            return False, f"not Ready: {reason}" + (f": {message}" if message else "")
    return False, f"not Ready: {status.get('phase') or 'Pending'}"


@dataclass(frozen=True)
class HttpVerdict:
    """'pass' or 'fail' when the app answered; 'none' when HTTP could not reach it."""

    outcome: Literal["pass", "fail", "none"]
    detail: str


def judge_http(status: int, content_type: str, body: bytes) -> HttpVerdict:
    """Judge a health answer; an API-server `Status` error is no answer from the app."""
    api_message = _api_status_message(content_type, body)
    if api_message is not None:
        return HttpVerdict("none", f"API server answered {status}: {api_message}")
    if 200 <= status < 400:
        return HttpVerdict("pass", str(status))
    if status >= 500:
        return HttpVerdict("fail", str(status))
    text = body[:120].decode(errors="replace").strip()
    return HttpVerdict("none", f"{status} not from the app" + (f": {text}" if text else ""))


def _api_status_message(content_type: str, body: bytes) -> str | None:
    if "json" not in content_type:
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        return None
    if isinstance(decoded, dict) and decoded.get("kind") == "Status":
        return str(decoded.get("message") or decoded.get("reason") or "error")
    return None


class Prober:
    """`Target.probe` for pods: readiness first, then HTTP as the mode allows."""

    def __init__(self, api: KubeApi, mode: ProbeMode, in_cluster: bool) -> None:
        if mode not in PROBE_MODES:
            raise TargetError(f"unknown health probe mode {mode!r}; valid: {PROBE_MODES}")
        self._api = api
        self.mode: ProbeMode = mode
        if mode == "auto":
            self.mode = "direct" if in_cluster else "api-proxy"

    def probe(self, instance: Instance, path: str, timeout: float) -> ProbeResult:
        pod = self._api.get(POD, instance.name)
        if pod is None:
            return ProbeResult(instance.name, False, "pod is gone")
        ready, why = pod_readiness(pod)
        if not ready:
            return ProbeResult(instance.name, False, f"{why} (pod Ready condition)")
        if self.mode == "readiness":
            return ProbeResult(instance.name, True, "Ready (pod Ready condition; HTTP off)")
        started = time.monotonic()
        verdict = self._http(instance, pod, path, timeout)
        took = f"in {(time.monotonic() - started) * 1000:.0f} ms via {self.mode}"
        if verdict.outcome == "none":
            return ProbeResult(
                instance.name, True,
                f"Ready (pod Ready condition); HTTP via {self.mode} impossible: {verdict.detail}",
            )
        return ProbeResult(instance.name, verdict.outcome == "pass", f"{verdict.detail} {took}")

    def _http(self, instance: Instance, pod: JSON, path: str, timeout: float) -> HttpVerdict:
        port = int(instance.address.rpartition(":")[2])
        if self.mode == "api-proxy":
            try:
                answer = self._api.proxy_get(instance.name, port, path, timeout)
            except TargetError as exc:
                return HttpVerdict("none", str(exc))
            return judge_http(answer.status, answer.content_type, answer.body)
        ip = (pod.get("status") or {}).get("podIP")
        if not ip:
            return HttpVerdict("none", "the pod has no IP")
        host = f"[{ip}]" if ":" in ip else ip
        return http_check(f"http://{host}:{port}{path}", timeout)


def http_check(url: str, timeout: float) -> HttpVerdict:
    """GET `url` straight (in-cluster mode); no connection or a timeout is no answer."""
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return HttpVerdict("none", f"{type(exc).__name__}: {exc}")
    return judge_http(
        response.status_code, response.headers.get("content-type", ""), response.content
    )
