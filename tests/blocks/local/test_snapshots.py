"""Snapshot files: sealed on save, refused when tampered, expired or of another app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blocks.errors import InvalidSnapshot
from blocks.local.layout import StateLayout
from blocks.local.snapshots import SnapshotStore, new_snapshot_id, validate
from blocks.target import Snapshot

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
RETENTION = timedelta(hours=72)


def snap(age: timedelta = timedelta(0), app: str = "fraud-api") -> Snapshot:
    taken = NOW - age
    return Snapshot(id=new_snapshot_id(taken), app=app, target="local", taken_at=taken,
                    stable_version="v1", instances={"v1": 2}, weights={"v1": 100},
                    env={"v1": {"A": "1"}}, payload={"preview": None})


def test_saved_snapshot_is_sealed_and_listed_newest_first(tmp_path: Path) -> None:
    store = SnapshotStore(StateLayout(tmp_path))
    old = store.save(snap(timedelta(hours=2)))
    new = store.save(snap())
    assert new.checksum == new.compute_checksum()
    assert [s.id for s in store.newest_first("fraud-api")] == [new.id, old.id]
    assert store.get("fraud-api", old.id) == old
    validate(store.get("fraud-api", new.id), "fraud-api", RETENTION, NOW)


def test_tampered_snapshot_is_refused(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path)
    saved = SnapshotStore(layout).save(snap())
    path = layout.snapshots_dir("fraud-api") / f"{saved.id}.json"
    path.write_text(path.read_text().replace('"v1": 100', '"v1": 50'))
    tampered = SnapshotStore(layout).get("fraud-api", saved.id)
    with pytest.raises(InvalidSnapshot, match="checksum"):
        validate(tampered, "fraud-api", RETENTION, NOW)


def test_expired_or_foreign_snapshot_is_refused() -> None:
    with pytest.raises(InvalidSnapshot, match=r"73.0 h old, beyond the 72 h retention"):
        validate(snap(timedelta(hours=73)).sealed(), "fraud-api", RETENTION, NOW)
    with pytest.raises(InvalidSnapshot, match="is of 'payments'"):
        validate(snap(app="payments").sealed(), "fraud-api", RETENTION, NOW)


def test_missing_or_unreadable_snapshot_is_invalid(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path)
    store = SnapshotStore(layout)
    with pytest.raises(InvalidSnapshot, match="has no snapshot"):
        store.get("fraud-api", "nope")
    with pytest.raises(InvalidSnapshot, match="invalid snapshot id"):
        store.get("fraud-api", "../x")
    layout.snapshots_dir("fraud-api").mkdir(parents=True)
    (layout.snapshots_dir("fraud-api") / "broken.json").write_text("{not json")
    with pytest.raises(InvalidSnapshot, match="unreadable"):
        store.get("fraud-api", "broken")
    assert store.newest_first("fraud-api") == []


def test_prune_removes_only_older_snapshots(tmp_path: Path) -> None:
    store = SnapshotStore(StateLayout(tmp_path))
    old = store.save(snap(timedelta(hours=80)))
    new = store.save(snap(timedelta(hours=1)))
    assert store.prune("fraud-api", RETENTION, now=NOW) == [old.id]
    assert [s.id for s in store.newest_first("fraud-api")] == [new.id]
