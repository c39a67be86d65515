"""`LocalTarget` against a real stack: routing read back from nginx, instances as processes."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import httpx
import pytest

from blocks.errors import TargetError, UnknownApp
from blocks.local.processes import is_alive
from tests.support.local_stack import APP, RunningStack, start_version, wait_ready


def versions_served(url: str, n: int) -> Counter[str]:
    with httpx.Client(timeout=5) as client:
        return Counter(client.get(f"{url}/model").headers["x-version"] for _ in range(n))


def test_baseline_serves_v1_with_weights_read_back_from_nginx(stack: RunningStack) -> None:
    target = stack.target
    assert target.get_weights(APP) == {"v1": 100}
    assert target.nginx.state()["apps"][APP]["weights"] == {"v1": 100}
    assert versions_served(stack.entry_url, 20) == {"v1": 20}
    info = target.describe(APP)
    assert (info.stable_version, info.replicas, info.entrypoint) == \
        ("v1", 2, stack.entry_url)
    assert target.inventory() == {APP: "v1"}


def test_weights_split_traffic_as_asked(stack: RunningStack) -> None:
    target = stack.target
    start_version(stack, "v2", 2)
    target.set_weights(APP, {"v1": 50, "v2": 50})
    assert target.get_weights(APP) == {"v1": 50, "v2": 50}
    split = versions_served(stack.entry_url, 400)
    # binomial(400, 0.5): sd = 10; 6 sd either side cannot fail by chance
    assert 140 <= split["v2"] <= 260, split
    target.set_weights(APP, {"v1": 0, "v2": 100})
    assert target.get_weights(APP) == {"v2": 100}
    assert versions_served(stack.entry_url, 100) == {"v2": 100}


def test_weights_need_instances_and_must_sum_to_100(stack: RunningStack) -> None:
    target = stack.target
    with pytest.raises(TargetError, match="no instances of v9"):
        target.set_weights(APP, {"v1": 90, "v9": 10})
    with pytest.raises(TargetError, match="sum to 100"):
        target.set_weights(APP, {"v1": 90})
    with pytest.raises(TargetError, match=r"integer 0\.\.100"):
        target.set_weights(APP, {"v1": 100.0})  # type: ignore[dict-item]
    with pytest.raises(UnknownApp, match="registered: fraud-api"):
        target.set_weights("payments", {"v1": 100})
    assert target.get_weights(APP) == {"v1": 100}


def test_ensure_instances_is_idempotent(stack: RunningStack) -> None:
    target = stack.target
    first = target.ensure_instances(APP, "v2", 2, {"FEATURE": "on"})
    again = target.ensure_instances(APP, "v2", 2, {"FEATURE": "on"})
    assert [i.name for i in again] == [i.name for i in first]
    instances = [p.instance for p in stack.stack.leftover_processes() if p.instance]
    assert len(instances) == 4  # v1 x2, v2 x2: nothing started twice
    fewer = target.ensure_instances(APP, "v2", 1, {"FEATURE": "on"})
    assert [i.name for i in fewer] == [first[0].name]
    nginx_ports = target.nginx.state()["apps"][APP]["upstreams"]["v2"]
    assert nginx_ports == [first[0].address]
    changed = target.ensure_instances(APP, "v2", 1, {"FEATURE": "off"})
    assert [i.name for i in changed] != [first[0].name]  # another env means new processes


def test_new_instances_get_no_traffic_until_weighted(stack: RunningStack) -> None:
    start_version(stack, "v2", 1)
    assert versions_served(stack.entry_url, 50) == {"v1": 50}
    assert stack.target.nginx.state()["apps"][APP]["upstreams"]["v2"]


def test_a_dead_instance_is_reported_not_ready_and_replaced(stack: RunningStack) -> None:
    target = stack.target
    start_version(stack, "v2", 2)
    victim = target.store.records(APP, "v2")[0]
    assert victim.pid is not None
    assert victim.handle is not None
    os.kill(victim.pid, signal.SIGKILL)
    # SIGKILL is delivered, not done, when os.kill returns: on a loaded machine the process
    # can still be exiting, and `ensure` rightly keeps a process that is still there.
    deadline = time.monotonic() + 10
    while is_alive(victim.handle):
        assert time.monotonic() < deadline, "the killed instance never exited"
        time.sleep(0.01)
    ready = {i.name: i.ready for i in target.instances(APP, "v2")}
    assert ready[victim.name] is False
    assert sum(1 for ok in ready.values() if ok) == 1
    target.ensure_instances(APP, "v2", 2, {})
    wait_ready(target, APP, "v2")
    assert victim.name not in {i.name for i in target.instances(APP, "v2")}


def test_probe_reports_status_and_refusals(stack: RunningStack) -> None:
    target = stack.target
    [sick] = target.ensure_instances(APP, "v2", 1, {"FAULT_UNHEALTHY": "1"})
    healthy = target.instances(APP, "v1")[0]
    ok = target.probe(healthy, "/health", 2)
    assert ok.ok
    assert ok.detail.startswith("200 in")
    deadline = time.monotonic() + 60
    while (bad := target.probe(sick, "/health", 2)).detail == "connection refused":
        assert time.monotonic() < deadline, "v2 never started listening"
        time.sleep(0.1)
    assert not bad.ok
    assert bad.detail.startswith("503 in")
    assert target.instances(APP, "v2")[0].ready is False
    target.retire(APP, "v2")
    gone = target.probe(sick, "/health", 2)
    assert (gone.ok, gone.detail) == (False, "connection refused")


def test_preview_port_reaches_the_candidate_only(stack: RunningStack) -> None:
    target = stack.target
    start_version(stack, "v2", 1)
    assert versions_served(stack.preview_url, 10) == {"v1": 10}  # defaults to stable
    target.set_preview(APP, "v2")
    assert versions_served(stack.preview_url, 20) == {"v2": 20}
    assert versions_served(stack.entry_url, 20) == {"v1": 20}
    with pytest.raises(TargetError, match="no instances"):
        target.set_preview(APP, "v9")


def test_retire_refuses_routed_versions_and_leaves_no_process(stack: RunningStack) -> None:
    target = stack.target
    start_version(stack, "v2", 2)
    target.set_weights(APP, {"v1": 90, "v2": 10})
    with pytest.raises(TargetError, match="still has 10% of the traffic"):
        target.retire(APP, "v2")
    target.set_weights(APP, {"v2": 100})
    with pytest.raises(TargetError, match="it is the stable version"):
        target.retire(APP, "v1")
    target.set_weights(APP, {"v1": 100})
    target.retire(APP, "v2")
    target.retire(APP, "v2")  # a no-op the second time
    assert target.instances(APP, "v2") == []
    assert [p for p in stack.stack.leftover_processes() if p.instance and "/v2/" in p.instance] \
        == []
    assert "v2" not in target.nginx.state()["apps"][APP]["upstreams"]


def test_mark_stable_moves_the_stable_track(stack: RunningStack) -> None:
    target = stack.target
    start_version(stack, "v2", 1)
    target.set_weights(APP, {"v2": 100})
    target.mark_stable(APP, "v2")
    assert target.describe(APP).stable_version == "v2"
    assert target.nginx.state()["apps"][APP]["stable"] == "v2"
    target.mark_stable(APP, "v1")
