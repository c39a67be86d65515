"""Shared pieces of the rollout integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from blocks.local.processes import owned_processes
from blocks.policy import AnalysisPolicy
from flows.model import Rollout
from flows.runner import current
from flows.spec import HealthCheck, RolloutSpec, Strategy
from tests.support.local_stack import APP, RunningStack
from tests.support.prefect_server import PrefectServer

ROOT = Path(__file__).resolve().parents[2]

# A healthy canary's p95 over a few seconds is a handful of requests, so one request delayed
# by a loaded 2-core CI machine (the Kubernetes tests run beside these) moves it by tens of ms:
# allow 250 ms. The latency fault the tests inject is +800 ms, still caught.
P95_TOLERANCE_SECONDS = 0.25

FAST = {
    "steps": [10, 50, 100],
    "step_interval_seconds": 3,
    "keep_previous_seconds": 3,
    "health": HealthCheck(retries=20, retry_delay_seconds=0.5, timeout_seconds=2),
    "analysis": AnalysisPolicy(window_seconds=6, min_requests=5,
                               p95_tolerance_seconds=P95_TOLERANCE_SECONDS),
}

CLI_FAST = [
    "--steps", "10,50,100", "--step-interval", "3", "--keep-previous", "3",
    "--health-retries", "20", "--health-delay", "0.5",
    "--analysis-window", "6", "--min-requests", "5",
    "--p95-tolerance", str(P95_TOLERANCE_SECONDS),
]  # fmt: skip


def fast_spec(strategy: Strategy, version: str = "v2", **env: str) -> RolloutSpec:
    return RolloutSpec(app=APP, version=version, strategy=strategy, env=env, **FAST)


def record(stack: RunningStack) -> Rollout:
    rollout = current(stack.target, APP)
    assert rollout is not None
    return rollout


def served_versions(stack: RunningStack, requests: int = 40) -> set[str]:
    """Versions answering on the entry port (what users get), from the X-Version header."""
    with httpx.Client(timeout=5) as client:
        url = f"{stack.entry_url}/health"
        return {client.get(url).headers["x-version"] for _ in range(requests)}


def instance_processes(stack: RunningStack) -> dict[str, int]:
    """Live instance processes of the app by version, found by their marker (not bookkeeping)."""
    counts: dict[str, int] = {}
    for process in owned_processes(stack.stack.layout.root):
        if process.instance and process.instance.startswith(f"{APP}/"):
            version = process.instance.split("/")[1]
            counts[version] = counts.get(version, 0) + 1
    return counts


def assert_consistent(stack: RunningStack, version: str, replicas: int = 2) -> None:
    """All traffic on `version`, only its instances alive, nothing split or orphaned."""
    assert stack.target.get_weights(APP) == {version: 100}
    assert served_versions(stack) == {version}
    assert stack.target.describe(APP).stable_version == version
    assert {i.version for i in stack.target.instances(APP)} == {version}
    assert instance_processes(stack) == {version: replicas}


def cli_env(stack: RunningStack, prefect: PrefectServer, **extra_env: str) -> dict[str, str]:
    return {
        **os.environ,
        **prefect.env(),
        "FLOODGATE_HOME": str(stack.settings.state_dir),
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }


def floodgate(
    args: list[str], stack: RunningStack, prefect: PrefectServer, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """Run the real `floodgate` command in its own process against the test stack."""
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=ROOT,
        env=cli_env(stack, prefect, **extra_env), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def floodgate_background(
    args: list[str], stack: RunningStack, prefect: PrefectServer
) -> subprocess.Popen[str]:
    """The `floodgate` command left running (e.g. a rollout another command steers)."""
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=cli_env(stack, prefect),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def loadgen_failures(stack: RunningStack) -> int:
    entry = stack.loadgen_stats()["apps"][APP]["entry"]
    return int(entry["failed"])
