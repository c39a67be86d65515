"""The `Target` protocol's contract, run against every implementation.

Each implementation provides a `Harness`: a live target with one app whose stable version `v1`
runs with all traffic, a way to wait until a version's instances are ready, and a reset back to
that baseline. The Kubernetes target runs on the session's real control plane (marker `k8s`)
with the routers whose weights are exact (nginx, gateway-api); the replica-ratio router's
weights follow pod counts by design and have their own tests
(tests/blocks/kubernetes/routers/test_replica_ratio.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blocks.errors import AppLocked, InvalidSnapshot, TargetError, UnknownApp
from blocks.target import Target
from tests.support.k8s_target import kubernetes_harness_parts
from tests.support.local_stack import reset, running_local_stack, wait_ready


@dataclass
class Harness:
    target: Target
    app: str
    ready: Callable[[str], None]  # wait until every instance of a version is ready
    reset: Callable[[], None]


@contextmanager
def local_harness(tmp: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
    with running_local_stack(tmp, loadgen_enabled=False) as stack:
        yield Harness(
            target=stack.target,
            app="fraud-api",
            ready=lambda version: wait_ready(stack.target, "fraud-api", version),
            reset=lambda: reset(stack),
        )


def kubernetes_harness(router: str) -> Callable[..., AbstractContextManager[Harness]]:
    @contextmanager
    def harness(tmp: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
        with kubernetes_harness_parts(request.getfixturevalue("kube_cluster"), router) as parts:
            target, app, ready, reset_to_v1 = parts
            yield Harness(target=target, app=app, ready=ready, reset=reset_to_v1)

    return harness


HARNESSES: dict[str, Callable[[Path, pytest.FixtureRequest], AbstractContextManager[Harness]]] = {
    "local": local_harness,
    "kubernetes-nginx": kubernetes_harness("nginx"),
    "kubernetes-gateway-api": kubernetes_harness("gateway-api"),
}
MARKS = {"kubernetes-nginx": pytest.mark.k8s, "kubernetes-gateway-api": pytest.mark.k8s}


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=MARKS.get(name, ())) for name in sorted(HARNESSES)
])
def harness(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with HARNESSES[request.param](tmp_path_factory.mktemp(request.param), request) as live:
        yield live


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    yield harness
    harness.reset()


def test_is_a_target(h: Harness) -> None:
    assert isinstance(h.target, Target)


def test_inventory_and_unknown_apps(h: Harness) -> None:
    t = h.target
    assert h.app in t.apps()
    info = t.describe(h.app)
    assert info.stable_version == "v1"
    assert info.replicas >= 1
    assert t.inventory()[h.app] == "v1"
    with pytest.raises(UnknownApp, match=h.app):  # the message lists the known apps
        t.describe("no-such-app")


def test_ensure_instances_converges_to_exactly_count(h: Harness) -> None:
    t = h.target
    first = t.ensure_instances(h.app, "v2", 2, {"K": "1"})
    assert [i.version for i in first] == ["v2", "v2"]
    assert [i.name for i in t.ensure_instances(h.app, "v2", 2, {"K": "1"})] == \
        [i.name for i in first]
    assert len(t.ensure_instances(h.app, "v2", 1, {"K": "1"})) == 1
    assert len(t.instances(h.app, "v2")) == 1
    h.ready("v2")
    assert all(i.ready for i in t.instances(h.app, "v2"))
    probe = t.probe(t.instances(h.app, "v2")[0], "/health", 2.0)
    assert probe.ok, probe.detail


def test_weights_round_trip_and_bad_weights_change_nothing(h: Harness) -> None:
    t = h.target
    t.ensure_instances(h.app, "v2", 1, {})
    h.ready("v2")
    t.set_weights(h.app, {"v1": 90, "v2": 10})
    assert t.get_weights(h.app) == {"v1": 90, "v2": 10}
    t.set_weights(h.app, {"v1": 90, "v2": 10})  # idempotent
    for bad in ({"v1": 50}, {"v1": 50, "v9": 50}):
        with pytest.raises(TargetError):
            t.set_weights(h.app, bad)
    assert t.get_weights(h.app) == {"v1": 90, "v2": 10}
    t.set_weights(h.app, {"v1": 0, "v2": 100})
    assert t.get_weights(h.app) == {"v2": 100}


def test_preview_stable_and_retire(h: Harness) -> None:
    t = h.target
    t.ensure_instances(h.app, "v2", 1, {})
    h.ready("v2")
    t.set_preview(h.app, "v2")
    t.set_weights(h.app, {"v2": 100})
    t.mark_stable(h.app, "v2")
    t.set_preview(h.app, None)
    assert t.describe(h.app).stable_version == "v2"
    t.retire(h.app, "v1")
    t.retire(h.app, "v1")  # nothing left: a no-op
    assert t.instances(h.app, "v1") == []


def test_records_and_history(h: Harness) -> None:
    t = h.target
    t.save_record(h.app, {"id": "r-1", "phase": "Pending"})
    t.save_record(h.app, {"id": "r-2", "phase": "Pending"})
    t.save_record(h.app, {"id": "r-2", "phase": "Succeeded"})
    assert t.load_record(h.app) == {"id": "r-2", "phase": "Succeeded"}
    history = t.history(h.app)
    assert [r["id"] for r in history[:2]] == ["r-2", "r-1"]
    assert history[0]["phase"] == "Succeeded"


def test_lock_is_exclusive(h: Harness) -> None:
    t = h.target
    with t.lock(h.app, "flow-run-1"), pytest.raises(AppLocked, match="flow-run-1"), \
            t.lock(h.app, "flow-run-2"):
        pass
    with t.lock(h.app, "flow-run-2"):
        pass


def test_commands_are_delivered_once(h: Harness) -> None:
    t = h.target
    t.post_command(h.app, "promote")
    t.post_command(h.app, "abort")
    assert t.take_commands(h.app) == ["promote", "abort"]
    assert t.take_commands(h.app) == []


def test_snapshot_change_restore(h: Harness) -> None:
    t = h.target
    snapshot = t.snapshot(h.app)
    assert snapshot.stable_version == "v1"
    assert snapshot.weights == {"v1": 100}
    assert t.get_snapshot(h.app, snapshot.id) == snapshot
    assert t.snapshots(h.app)[0].id == snapshot.id
    t.ensure_instances(h.app, "v2", 1, {})
    h.ready("v2")
    t.set_weights(h.app, {"v1": 50, "v2": 50})
    t.restore(snapshot)
    assert t.get_weights(h.app) == {"v1": 100}
    assert {i.version for i in t.instances(h.app)} == {"v1"}
    assert t.describe(h.app).stable_version == "v1"


def test_invalid_snapshots_are_refused(h: Harness) -> None:
    t = h.target
    snapshot = t.snapshot(h.app)
    tampered = snapshot.model_copy(update={"weights": {"v1": 1}})
    expired = snapshot.model_copy(
        update={"taken_at": datetime.now(UTC) - timedelta(hours=73)}).sealed()
    for bad in (tampered, expired):
        with pytest.raises(InvalidSnapshot):
            t.restore(bad)
    with pytest.raises(InvalidSnapshot):
        t.get_snapshot(h.app, "no-such-snapshot")
    assert t.prune_snapshots(h.app, timedelta(0)) != []
    assert t.snapshots(h.app) == []
