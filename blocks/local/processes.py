"""Spawning, checking and stopping the processes a local stack owns — and finding lost ones.

Every process is started in its own session (it survives the orchestrator that spawned it, and
killing its process group takes its children along) with its output appended to a log file.
A process is identified by `(pid, start_ticks)` — the start time from `/proc/<pid>/stat` — so a
recycled pid is never mistaken for ours.

Each one also carries marker variables in its environment: `FLOODGATE_OWNER=<state dir>` plus
`FLOODGATE_INSTANCE=<app>/<version>/<port>` or `FLOODGATE_COMPONENT=<name>`. If the orchestrator
is SIGKILLed between spawning a process and recording its pid, `owned_processes()` still finds it
by scanning `/proc/*/environ`; that is how `retire` and `down` guarantee no orphan survives.
(nginx overwrites its environment with its process title, so its master is recognised by its
title, which contains the state directory's nginx prefix.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

OWNER_VAR = "FLOODGATE_OWNER"
INSTANCE_VAR = "FLOODGATE_INSTANCE"
COMPONENT_VAR = "FLOODGATE_COMPONENT"
MARKER_VARS = (OWNER_VAR, INSTANCE_VAR, COMPONENT_VAR)

# Popen objects of children we spawned, kept so exited children are reaped (no zombies).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcessHandle:
    pid: int
    start_ticks: int


@dataclass(frozen=True)
class OwnedProcess:
    """A live process that belongs to a state directory, and what its marker says it is."""

    pid: int
    session: int
    instance: str | None  # "<app>/<version>/<port>"
    component: str | None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state first), or None if the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw.rsplit(")", 1)[1].split()


def start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[19])


def marker_env(owner: Path, *, instance: str | None = None, component: str | None = None,
               extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: ours minus inherited markers, plus `extra` and its marker."""
    env = {k: v for k, v in os.environ.items() if k not in MARKER_VARS}
    env.update(extra or {})
    env[OWNER_VAR] = str(owner)
    if instance is not None:
        env[INSTANCE_VAR] = instance
    if component is not None:
        env[COMPONENT_VAR] = component
    return env


def spawn(argv: Sequence[str], *, env: Mapping[str, str], log_path: Path,
          cwd: Path | None = None) -> ProcessHandle:
    """Start `argv` in a new session, stdout+stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )
    _CHILDREN[process.pid] = process
    ticks = start_ticks(process.pid)
    return ProcessHandle(process.pid, ticks if ticks is not None else -1)


def is_alive(handle: ProcessHandle) -> bool:
    """True while the very process of `handle` runs (not a zombie, not a recycled pid)."""
    child = _CHILDREN.get(handle.pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(handle.pid, None)
        return False
    fields = _stat_fields(handle.pid)
    if fields is None or fields[0] in ("Z", "X", "x"):
        return False
    return handle.start_ticks in (-1, int(fields[19]))


def _session_members(session: int) -> list[int]:
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[3]) == session and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def terminate(handle: ProcessHandle, timeout: float = 10.0,
              first_signal: signal.Signals = signal.SIGTERM) -> None:
    """Ask the process group to stop, wait up to `timeout`, then SIGKILL whatever is left."""
    if is_alive(handle):
        _signal_group(handle.pid, first_signal)
        deadline = time.monotonic() + timeout
        while is_alive(handle) and time.monotonic() < deadline:
            time.sleep(0.02)
    kill_sessions([handle.pid])
    child = _CHILDREN.pop(handle.pid, None)
    if child is not None:
        child.wait(timeout=5)


def kill_sessions(sessions: Iterable[int]) -> list[int]:
    """SIGKILL every process of these sessions (a session id is its leader's pid)."""
    killed: list[int] = []
    for session in set(sessions) - {os.getsid(0)}:  # never our own session
        _signal_group(session, signal.SIGKILL)
        for pid in _session_members(session):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
    for pid in killed:
        _wait_gone(pid)
    return killed


def kill_processes(processes: Iterable[OwnedProcess]) -> list[int]:
    """SIGKILL these processes and the rest of their sessions."""
    found = list(processes)
    killed = kill_sessions(p.session for p in found)
    for process in found:
        if process.pid in killed or process.pid == os.getpid():
            continue
        try:
            os.kill(process.pid, signal.SIGKILL)
            killed.append(process.pid)
        except ProcessLookupError:
            continue
        _wait_gone(process.pid)
    return sorted(set(killed))


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            child.wait(timeout=timeout)
        fields = _stat_fields(pid)
        if fields is None or fields[0] in ("Z", "X", "x"):
            return
        time.sleep(0.01)


def _read_environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _nginx_master_of(pid: int, nginx_prefix: str) -> bool:
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace"
        )
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return title.startswith("nginx: master process") and nginx_prefix in title


def owned_processes(owner: Path, nginx_prefix: Path | None = None) -> list[OwnedProcess]:
    """Every live process carrying `owner`'s marker, plus the members of their sessions."""
    me = {os.getpid(), os.getppid()}
    found: dict[int, OwnedProcess] = {}
    owner_text = str(owner)
    prefix = str(nginx_prefix) if nginx_prefix is not None else None
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in me:
            continue
        pid = int(entry.name)
        fields = _stat_fields(pid)
        if fields is None or fields[0] == "Z":
            continue
        env = _read_environ(pid)
        if env.get(OWNER_VAR) == owner_text:
            found[pid] = OwnedProcess(pid, int(fields[3]), env.get(INSTANCE_VAR),
                                      env.get(COMPONENT_VAR))
        elif prefix is not None and _nginx_master_of(pid, prefix):
            found[pid] = OwnedProcess(pid, int(fields[3]), None, "nginx")
    sessions = {p.session for p in found.values()} - {os.getsid(0)}
    for session in sessions:
        for pid in _session_members(session):
            if pid not in found and pid not in me:
                found[pid] = OwnedProcess(pid, session, None, None)
    return sorted(found.values(), key=lambda p: p.pid)
