"""Spawning, identity, stopping whole sessions, and finding marked orphans (real processes)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from blocks.local.processes import (
    ProcessHandle,
    is_alive,
    kill_processes,
    marker_env,
    owned_processes,
    spawn,
    terminate,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# A parent that starts a grandchild in its own process group but the same session, then waits.
FAMILY = [sys.executable, "-c", (
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
    "process_group=0); time.sleep(60)"
)]


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_spawned_process_is_alive_until_terminated(tmp_path: Path) -> None:
    handle = spawn(SLEEPER, env=marker_env(tmp_path, component="t"), log_path=tmp_path / "x.log")
    assert is_alive(handle)
    terminate(handle, timeout=5)
    assert not is_alive(handle)


def test_a_recycled_pid_is_not_mistaken_for_ours(tmp_path: Path) -> None:
    handle = spawn(SLEEPER, env=marker_env(tmp_path, component="t"), log_path=tmp_path / "x.log")
    impostor = ProcessHandle(handle.pid, handle.start_ticks + 1)
    assert not is_alive(impostor)
    terminate(handle, timeout=5)


def test_terminate_takes_the_whole_session_along(tmp_path: Path) -> None:
    handle = spawn(FAMILY, env=marker_env(tmp_path, component="family"),
                   log_path=tmp_path / "f.log")
    wait_for(lambda: len(owned_processes(tmp_path)) == 2)
    terminate(handle, timeout=5)
    assert owned_processes(tmp_path) == []


def test_orphans_are_found_by_their_marker_without_any_record(tmp_path: Path) -> None:
    # Started by someone else (a killed orchestrator): only the environment marker is left.
    env = marker_env(tmp_path, instance="fraud-api/v2/41234")
    orphan = subprocess.Popen(SLEEPER, env=env, start_new_session=True)
    try:
        found = owned_processes(tmp_path)
        assert [(p.pid, p.instance) for p in found] == [(orphan.pid, "fraud-api/v2/41234")]
        assert owned_processes(tmp_path / "other-state") == []
        kill_processes(found)
        orphan.wait(timeout=5)
        assert owned_processes(tmp_path) == []
    finally:
        orphan.kill()
        orphan.wait()


def test_children_do_not_inherit_the_parents_marker(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLOODGATE_COMPONENT", "flow-server")
    env = marker_env(tmp_path, instance="a/v1/1")
    assert "FLOODGATE_COMPONENT" not in env
    assert env["FLOODGATE_INSTANCE"] == "a/v1/1"
