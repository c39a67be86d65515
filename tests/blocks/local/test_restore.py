"""Snapshot → change → restore gives back the same app; bad snapshots are refused unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blocks.errors import InvalidSnapshot
from tests.support.local_stack import APP, RunningStack, start_version


def shape(stack: RunningStack) -> tuple[dict[str, int], dict[str, int], str | None, str | None]:
    target = stack.target
    counts: dict[str, int] = {}
    for instance in target.instances(APP):
        counts[instance.version] = counts.get(instance.version, 0) + 1
    served = target.nginx.state()["apps"][APP]
    return counts, target.get_weights(APP), served["preview"], served["stable"]


def test_restore_brings_back_instances_weights_preview_and_stable(stack: RunningStack) -> None:
    target = stack.target
    start_version(stack, "v2", 1, env={"MODE": "blue"})
    target.set_weights(APP, {"v1": 80, "v2": 20})
    target.set_preview(APP, "v2")
    before = shape(stack)
    snapshot = target.snapshot(APP)
    assert snapshot.checksum == snapshot.compute_checksum()
    assert snapshot.instances == {"v1": 2, "v2": 1}
    assert snapshot.env["v2"]["MODE"] == "blue"
    assert target.snapshots(APP)[0].id == snapshot.id

    # a rollout changes everything: v3 takes over, v2 is retired, v1 scaled down
    start_version(stack, "v3", 2)
    target.set_weights(APP, {"v1": 50, "v3": 50})
    target.set_preview(APP, "v3")
    target.retire(APP, "v2")
    target.ensure_instances(APP, "v1", 1, target.describe(APP).env)
    assert shape(stack) != before

    target.restore(target.get_snapshot(APP, snapshot.id))
    assert shape(stack) == before
    assert target.store.spec(APP, "v2").env["MODE"] == "blue"  # type: ignore[union-attr]
    assert target.instances(APP, "v3") == []
    target.restore(snapshot)  # idempotent
    assert shape(stack) == before


@pytest.mark.parametrize("damage", ["tampered", "expired", "other-app"])
def test_bad_snapshots_are_refused_and_change_nothing(stack: RunningStack, damage: str) -> None:
    target = stack.target
    snapshot = target.snapshot(APP)
    start_version(stack, "v2", 1)
    target.set_weights(APP, {"v1": 70, "v2": 30})
    if damage == "tampered":
        bad = snapshot.model_copy(update={"weights": {"v1": 100, "v9": 0}})
        reason = "checksum"
    elif damage == "expired":
        old = datetime.now(UTC) - timedelta(hours=73)
        bad = snapshot.model_copy(update={"taken_at": old}).sealed()
        reason = "beyond the 72 h retention"
    else:
        bad = snapshot.model_copy(update={"app": "payments"}).sealed()
        reason = "no local app named 'payments'"
    with pytest.raises(Exception, match=reason) as caught:
        target.restore(bad)
    assert isinstance(caught.value, InvalidSnapshot | LookupError)
    assert target.get_weights(APP) == {"v1": 70, "v2": 30}
    assert len(target.instances(APP, "v2")) == 1


def test_prune_drops_snapshots_past_the_window(stack: RunningStack) -> None:
    target = stack.target
    kept = target.snapshot(APP)
    assert kept.id not in target.prune_snapshots(APP, timedelta(hours=72))
    assert kept.id in target.prune_snapshots(APP, timedelta(0))
    with pytest.raises(InvalidSnapshot):
        target.get_snapshot(APP, kept.id)
