"""Rollout records and their history live in ConfigMaps of the app's namespace."""

from __future__ import annotations

import pytest
from kubernetes import client

from blocks.errors import TargetError
from tests.support.k8s_target import TargetFactory

pytestmark = pytest.mark.k8s


def record(rollout_id: str, phase: str, created: str) -> dict[str, object]:
    return {"id": rollout_id, "phase": phase, "created_at": created, "spec": {"app": "shop"}}


def test_the_current_record_is_replaced_and_survives_a_new_target(
    make_target: TargetFactory,
) -> None:
    target = make_target()
    assert target.load_record("shop") is None
    target.save_record("shop", record("a1", "Pending", "2026-01-01T00:00:00+00:00"))
    target.save_record("shop", record("a1", "Shifting", "2026-01-01T00:00:00+00:00"))
    assert make_target().load_record("shop") == record(
        "a1", "Shifting", "2026-01-01T00:00:00+00:00"
    )


def test_history_keeps_one_entry_per_rollout_newest_first(make_target: TargetFactory) -> None:
    target = make_target(history_limit=2)
    target.save_record("shop", record("a1", "Succeeded", "2026-01-01T00:00:00+00:00"))
    target.save_record("shop", record("b2", "Pending", "2026-01-02T00:00:00+00:00"))
    target.save_record("shop", record("b2", "RolledBack", "2026-01-02T00:00:00+00:00"))
    assert [(h["id"], h["phase"]) for h in target.history("shop")] == [
        ("b2", "RolledBack"), ("a1", "Succeeded")
    ]
    target.save_record("shop", record("c3", "Pending", "2026-01-03T00:00:00+00:00"))
    assert [h["id"] for h in target.history("shop")] == ["c3", "b2"]  # a1 pruned
    assert [h["id"] for h in target.history("shop", limit=1)] == ["c3"]


def test_a_record_without_an_id_is_refused(make_target: TargetFactory) -> None:
    target = make_target()
    with pytest.raises(TargetError, match="string 'id'"):
        target.save_record("shop", {"phase": "Pending"})
    assert target.load_record("shop") is None


def test_a_damaged_record_is_reported_not_guessed(
    make_target: TargetFactory, admin_api: client.ApiClient, namespace: str
) -> None:
    target = make_target()
    target.save_record("shop", record("a1", "Pending", "2026-01-01T00:00:00+00:00"))
    client.CoreV1Api(admin_api).patch_namespaced_config_map(
        "floodgate-rollout-shop", namespace, {"data": {"rollout.json": "{not json"}}
    )
    with pytest.raises(TargetError, match="floodgate-rollout-shop is damaged"):
        target.load_record("shop")
