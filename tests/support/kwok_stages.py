"""kwok Stage configuration for the test cluster: kwok's own "fast" node and pod stages, plus a
way to keep a pod Running but not Ready, which is what a failing readiness probe looks like.

The stock stages (copied from the pinned kwok module by scripts/build-controlplane.sh) make every
pod Ready at once. Rollout tests also need pods that never pass their health check, so:

- pods annotated ``floodgate.test/kwok-ready: "false"`` become Running with Ready=False and
  ContainersReady=False (containers "running", ``ready: false``) and stay that way;
- the stock ``pod-ready`` stage skips such pods;
- removing the annotation from such a live pod makes it Ready (a probe that recovers), keeping
  its IP; annotating a Ready pod with ``"false"`` turns it not Ready (a probe that starts failing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

NOT_READY_ANNOTATION = "floodgate.test/kwok-ready"
NOT_READY_ANNOTATIONS = {NOT_READY_ANNOTATION: "false"}

STOCK_STAGE_FILES = (
    "node-initialize.yaml",
    "node-heartbeat-with-lease.yaml",
    "pod-ready.yaml",
    "pod-complete.yaml",
    "pod-delete.yaml",
)

_ANNOTATION_KEY = f'.metadata.annotations["{NOT_READY_ANNOTATION}"]'
_READY_STATUS_KEY = '.status.conditions.[] | select( .type == "Ready" ) | .status'

_NOT_READY_TEMPLATE = """\
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  message: readiness probe failed (annotation ANNOTATION is "false")
  reason: ContainersNotReady
  status: "False"
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  message: readiness probe failed (annotation ANNOTATION is "false")
  reason: ContainersNotReady
  status: "False"
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
{{ if not .status.podIP }}
{{ with NodeIPsWith .spec.nodeName }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) \
( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
startTime: {{ $now | Quote }}
{{ end }}
phase: Running
""".replace("ANNOTATION", NOT_READY_ANNOTATION)


_READY_AGAIN_TEMPLATE = """\
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
"""


def _pod_stage(name: str, expressions: list[dict[str, Any]], template: str) -> dict[str, Any]:
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": name},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": {"matchExpressions": expressions},
            "next": {"statusTemplate": template},
        },
    }


_NOT_DELETED = {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"}


def _not_ready_stage() -> dict[str, Any]:
    """Pending or Ready pods with the annotation: Running, Ready=False."""
    return _pod_stage("floodgate-pod-not-ready", [
        dict(_NOT_DELETED),
        {"key": ".status.phase", "operator": "In", "values": ["Pending", "Running"]},
        {"key": _ANNOTATION_KEY, "operator": "In", "values": ["false"]},
        {"key": _READY_STATUS_KEY, "operator": "NotIn", "values": ["False"]},
    ], _NOT_READY_TEMPLATE)


def _ready_again_stage() -> dict[str, Any]:
    """Running, unready pods whose annotation went away: Ready, same IP (kwok's own pod-ready
    would allocate a second pod IP, which the apiserver refuses)."""
    return _pod_stage("floodgate-pod-ready-again", [
        dict(_NOT_DELETED),
        {"key": ".status.phase", "operator": "In", "values": ["Running"]},
        {"key": _ANNOTATION_KEY, "operator": "NotIn", "values": ["false"]},
        {"key": _READY_STATUS_KEY, "operator": "In", "values": ["False"]},
    ], _READY_AGAIN_TEMPLATE)


def _patch_pod_ready(stage: dict[str, Any]) -> None:
    """Make kwok's pod-ready stage leave annotated pods alone."""
    expressions: list[dict[str, Any]] = stage["spec"]["selector"]["matchExpressions"]
    expressions.append({"key": _ANNOTATION_KEY, "operator": "NotIn", "values": ["false"]})


def write_stage_config(stock_dir: Path, destination: Path) -> Path:
    """Write kwok's --config file: the stock stages from `stock_dir`, patched, plus ours."""
    stages: list[dict[str, Any]] = []
    for name in STOCK_STAGE_FILES:
        source = stock_dir / name
        if not source.is_file():
            hint = "run scripts/build-controlplane.sh"
            raise FileNotFoundError(f"kwok stage {source} is missing; {hint}")
        stage = yaml.safe_load(source.read_text())
        if stage["metadata"]["name"] == "pod-ready":
            _patch_pod_ready(stage)
        stages.append(stage)
    stages += [_not_ready_stage(), _ready_again_stage()]
    destination.write_text(yaml.safe_dump_all(stages, sort_keys=False))
    return destination
