"""Rollout records, history and the command mailbox as files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from blocks.errors import TargetError
from blocks.local.layout import StateLayout
from blocks.local.records import CommandQueue, RecordStore


def test_record_round_trip_and_history_newest_first(tmp_path: Path) -> None:
    store = RecordStore(StateLayout(tmp_path))
    assert store.load("a") is None
    store.save("a", {"id": "r1", "phase": "Pending"})
    store.save("a", {"id": "r2", "phase": "Pending"})
    store.save("a", {"id": "r2", "phase": "Succeeded"})
    assert store.load("a") == {"id": "r2", "phase": "Succeeded"}
    assert [r["id"] for r in store.history("a")] == ["r2", "r1"]
    assert store.history("a")[0]["phase"] == "Succeeded"
    assert len(store.history("a", limit=1)) == 1


def test_record_without_a_safe_id_is_refused_and_nothing_written(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path)
    store = RecordStore(layout)
    for bad in ({"phase": "x"}, {"id": "../../etc"}, {"id": 7}):
        with pytest.raises(TargetError, match="'id'"):
            store.save("a", bad)
    assert not layout.record_file("a").exists()


def test_commands_are_taken_once_in_order(tmp_path: Path) -> None:
    queue = CommandQueue(StateLayout(tmp_path))
    queue.post("a", "promote")
    queue.post("a", "abort")
    assert queue.take("a") == ["promote", "abort"]
    assert queue.take("a") == []


def test_concurrent_takers_never_share_a_command(tmp_path: Path) -> None:
    queue = CommandQueue(StateLayout(tmp_path))
    for _ in range(200):
        queue.post("a", "promote")
    taken: list[list[str]] = [[], [], [], []]

    def take(i: int) -> None:
        for _ in range(20):
            taken[i] += queue.take("a")

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(t) for t in taken) == 200


def test_malformed_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="invalid command"):
        CommandQueue(StateLayout(tmp_path)).post("a", "rm -rf /")
