"""The rollout lock across real processes, and the re-entrant state lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from blocks.errors import AppLocked, TargetError
from blocks.local.locks import StateLock, rollout_lock

HOLD = """
import sys, time
from pathlib import Path
from blocks.local.locks import rollout_lock
with rollout_lock(Path(sys.argv[1]), "fraud-api", "deploy-run-42"):
    print("locked", flush=True)
    time.sleep(60)
"""


def hold_in_subprocess(path: Path) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE,
                            text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_is_exclusive_across_processes_and_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "rollout.lock"
    holder = hold_in_subprocess(path)
    try:
        with pytest.raises(AppLocked, match=r"fraud-api is locked by deploy-run-42 \(pid \d+"), \
                rollout_lock(path, "fraud-api", "me"):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_lock_dies_with_a_sigkilled_holder(tmp_path: Path) -> None:
    path = tmp_path / "rollout.lock"
    holder = hold_in_subprocess(path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with rollout_lock(path, "fraud-api", "next-run"):
        assert "next-run" in path.read_text()


def test_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    path = tmp_path / "rollout.lock"
    with rollout_lock(path, "a", "first"), pytest.raises(AppLocked), rollout_lock(path, "a", "2"):
        pass
    with rollout_lock(path, "a", "again"):  # released on exit
        pass


def test_state_lock_is_reentrant_per_thread_and_exclusive_across_threads(tmp_path: Path) -> None:
    lock = StateLock(tmp_path / "state.lock", timeout=0.3)
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with lock.hold(), lock.hold():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    inside.wait(5)
    other = StateLock(tmp_path / "state.lock", timeout=0.3)  # another holder, same file
    with pytest.raises(TargetError, match="state directory busy"), other.hold():
        pass
    release.set()
    thread.join()
    started = time.monotonic()
    with other.hold():
        assert time.monotonic() - started < 5
