"""A real local stack (nginx, Prometheus, fraud-api instances, load generator) for tests.

`running_local_stack(tmp_dir, ...)` starts one on free ports with a 1 s scrape interval and
stops it afterwards, checking that no marked process survives. Fixtures built on it:
`local_stack` in tests/blocks/local/conftest.py (one per module). Reuse it in flow integration
tests:

    from tests.support.local_stack import running_local_stack

    @pytest.fixture(scope="module")
    def stack(tmp_path_factory):
        with running_local_stack(tmp_path_factory.mktemp("stack"), loadgen_rate=20) as s:
            yield s

`reset(stack)` puts the app back to "v1 stable, 100 %, 2 replicas, no preview" between tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from blocks.local.apps import LocalApp
from blocks.local.loadgen import read_stats
from blocks.local.settings import LocalSettings, RouterName
from blocks.local.stack import LocalStack
from blocks.local.target import LocalTarget
from examples.fraud_api.local import fraud_api_app
from tests.support.ports import free_port

APP = "fraud-api"


@dataclass
class RunningStack:
    stack: LocalStack
    app: LocalApp

    @property
    def settings(self) -> LocalSettings:
        return self.stack.settings

    @property
    def target(self) -> LocalTarget:
        return self.stack.target

    @property
    def entry_url(self) -> str:
        return f"http://127.0.0.1:{self.app.entry_port}"

    @property
    def preview_url(self) -> str:
        return f"http://127.0.0.1:{self.app.preview_port}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.prometheus_port}"

    def loadgen_stats(self) -> dict[str, Any]:
        return read_stats(self.stack.layout.loadgen_stats)

    def prometheus_query(self, query: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": query},
                             timeout=5)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result


def wait_ready(target: LocalTarget, app: str, version: str, timeout: float = 60) -> None:
    """Until every instance of `version` answers its health check."""
    deadline = time.monotonic() + timeout
    while True:
        instances = target.instances(app, version)
        if instances and all(i.ready for i in instances):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{app} {version} not ready: {instances}")
        time.sleep(0.1)


def start_version(stack: RunningStack, version: str, count: int = 1,
                  env: Mapping[str, str] | None = None) -> None:
    stack.target.ensure_instances(APP, version, count, dict(env or {}))
    wait_ready(stack.target, APP, version)


def reset(stack: RunningStack) -> None:
    """Back to the baseline: v1 stable with all traffic and its replicas, nothing else."""
    target = stack.target
    start_version(stack, "v1", stack.app.replicas)
    target.set_weights(APP, {"v1": 100})
    target.set_preview(APP, None)
    target.mark_stable(APP, "v1")
    for version in target.store.versions(APP):
        if version != "v1":
            target.retire(APP, version)


@contextmanager
def running_local_stack(
    state_dir: Path,
    *,
    router: RouterName = "lua",
    loadgen_enabled: bool = True,
    loadgen_rate: float = 20,
    scrape_interval_seconds: float = 1.0,
    replicas: int = 2,
) -> Iterator[RunningStack]:
    settings = LocalSettings(
        state_dir=state_dir, admin_port=free_port(), prometheus_port=free_port(),
        scrape_interval_seconds=scrape_interval_seconds, router=router,
        loadgen_enabled=loadgen_enabled, loadgen_rate=loadgen_rate, stop_timeout_seconds=5,
    )
    app = fraud_api_app(entry_port=free_port(), preview_port=free_port(), replicas=replicas)
    stack = LocalStack(settings)
    try:
        stack.up([app])
        yield RunningStack(stack, app)
    finally:
        stack.down()
        leftovers = stack.leftover_processes()
        assert not leftovers, f"processes left after down(): {leftovers}"
