"""The real nginx master: reloads drop nothing, refused configs change nothing."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

from blocks.errors import TargetError
from blocks.local.apps import LocalApp
from blocks.local.settings import LocalSettings
from blocks.local.target import LocalTarget
from tests.support.local_stack import APP, RunningStack, start_version
from tests.support.ports import free_port


class SteadyTraffic:
    """Client threads with keep-alive connections, counting answers by version and failures."""

    def __init__(self, url: str, threads: int = 4) -> None:
        self.url = url
        self.versions: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(f"{self.url}/model")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text[:80]}")
                self.versions[response.headers.get("x-version", "?")] += 1

    def __enter__(self) -> SteadyTraffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def test_reloads_under_steady_traffic_drop_no_request(stack: RunningStack) -> None:
    target = stack.target
    start_version(stack, "v2", 1)
    with SteadyTraffic(stack.entry_url) as traffic:
        for i in range(12):
            with target.state_lock.hold():
                target.routing.apply()  # a full graceful reload each time
            target.set_preview(APP, "v2" if i % 2 else None)  # and reloads that change routes
    assert traffic.failures == []
    assert sum(traffic.versions.values()) > 100
    assert set(traffic.versions) == {"v1"}


def test_a_refused_config_raises_with_nginx_message_and_changes_nothing(
    stack: RunningStack,
) -> None:
    nginx = stack.target.nginx
    before = nginx.state()
    conf_before = stack.target.layout.nginx_conf.read_text()
    with pytest.raises(TargetError, match=r"nginx refused the new config: .*unknown directive"):
        nginx.reload("events {}\nhttp { bogus_directive on; }\n", before["generation"] + 1)
    assert nginx.state() == before
    assert stack.target.layout.nginx_conf.read_text() == conf_before
    assert httpx.get(f"{stack.entry_url}/model").status_code == 200


def test_a_failed_reload_keeps_the_old_config_serving(stack: RunningStack) -> None:
    target = stack.target
    before = target.nginx.state()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        newcomer = LocalApp(name="payments", command=["true", "{port}"], entry_port=taken,
                            preview_port=free_port())
        with pytest.raises(TargetError, match="Address already in use"):
            target.register_app(newcomer)
    assert target.apps() == [APP]  # the registration was undone
    after = target.nginx.state()
    assert after["config_generation"] == before["config_generation"]
    assert httpx.get(f"{stack.entry_url}/model").headers["x-version"] == "v1"
    with target.state_lock.hold():
        target.routing.apply()  # and the next reload works again
    assert target.nginx.state()["config_generation"] > before["config_generation"]


def test_nginx_that_cannot_start_says_why(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        settings = LocalSettings(state_dir=tmp_path, admin_port=squatter.getsockname()[1],
                                 prometheus_port=free_port())
        target = LocalTarget(settings)
        with pytest.raises(TargetError, match=r"nginx exited during start-up: .*in use"):
            target.routing.start_nginx()
    assert target.nginx.running() is None
