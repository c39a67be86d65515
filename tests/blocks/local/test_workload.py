"""Orchestrator crashes: a SIGKILLed `ensure_instances` leaves nothing behind `retire`/`down`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from blocks.local.instances import InstanceRecord, config_digest
from blocks.local.processes import marker_env, spawn
from tests.support.local_stack import APP, RunningStack

ENSURE = """
import sys
from pathlib import Path
from blocks.local.settings import LocalSettings
from blocks.local.target import LocalTarget
LocalTarget(LocalSettings.load(Path(sys.argv[1]))).ensure_instances("fraud-api", "v2", 3, {})
"""


def v2_processes(stack: RunningStack) -> list[int]:
    return [p.pid for p in stack.stack.leftover_processes()
            if p.instance and p.instance.startswith(f"{APP}/v2/")]


def test_sigkill_mid_ensure_leaves_no_orphan_after_retire(stack: RunningStack) -> None:
    root = Path(__file__).resolve().parents[3]
    orchestrator = subprocess.Popen(
        [sys.executable, "-c", ENSURE, str(stack.settings.state_dir)], cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    deadline = time.monotonic() + 60
    while not v2_processes(stack):  # kill it as soon as its first instance exists
        assert time.monotonic() < deadline
        assert orchestrator.poll() is None
        time.sleep(0.002)
    orchestrator.send_signal(signal.SIGKILL)
    orchestrator.wait()
    assert v2_processes(stack)
    stack.target.retire(APP, "v2")
    assert v2_processes(stack) == []
    assert stack.target.store.records(APP, "v2") == []


def test_intent_record_without_pid_adopts_or_reaps_its_process(stack: RunningStack) -> None:
    """The exact crash window: record written, process spawned, pid never recorded."""
    target, layout = stack.target, stack.target.layout
    digest = config_digest(dict(stack.app.env))
    lost = InstanceRecord(app=APP, version="v2", port=45999, config_digest=digest)
    target.store.save(lost)
    orphan = spawn([sys.executable, "-c", "import time; time.sleep(60)"],
                   env=marker_env(layout.root, instance=lost.marker), log_path=tmp_log(layout.root))
    never = InstanceRecord(app=APP, version="v2", port=45998, config_digest=digest)
    target.store.save(never)  # crashed before spawning at all
    kept = target.workload.ensure(APP, "v2", 1, {})
    assert [(r.port, r.pid) for r in kept] == [(45999, orphan.pid)]  # adopted, not respawned
    assert [r.port for r in target.store.records(APP, "v2")] == [45999]  # `never` dropped
    target.workload.ensure(APP, "v2", 0, {})
    assert target.store.records(APP, "v2") == []
    assert v2_processes(stack) == []


def tmp_log(root: Path) -> Path:
    return root / "logs" / "lost.log"
