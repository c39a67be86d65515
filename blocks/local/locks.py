"""File locks: the per-app rollout lock and the state lock that serialises changes.

Both are `fcntl.flock` locks, which the kernel drops when the holding process dies (even by
SIGKILL), so a crashed flow never blocks the next one. flock locks belong to an open file, so two
opens in one process also exclude each other — the rollout lock is exclusive everywhere.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from blocks.errors import AppLocked, TargetError


@contextmanager
def rollout_lock(path: Path, app: str, holder: str) -> Iterator[None]:
    """Hold `app`'s rollout lock or raise `AppLocked` naming the current holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise AppLocked(f"{app} is locked by {_describe(handle.read())}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"holder": holder, "pid": os.getpid(),
                                 "since": datetime.now(UTC).isoformat()}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _describe(text: str) -> str:
    try:
        info = json.loads(text)
        return f"{info['holder']} (pid {info['pid']}, since {info['since']})"
    except (ValueError, KeyError, TypeError):
        return "another process"


class StateLock:
    """A blocking, re-entrant (per thread) flock around changes of the state directory.

    `ensure_instances`, `set_weights`, reloads and restores each read the state, change it and
    render nginx from it; two processes doing so at once would lose one's change.
    """

    def __init__(self, path: Path, timeout: float = 120.0) -> None:
        self._path = path
        self._timeout = timeout
        self._local = threading.local()
        self._thread_lock = threading.RLock()

    @contextmanager
    def hold(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        with self._thread_lock:
            handle = self._acquire()
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()

    def _acquire(self) -> IO[str]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a+")
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.close()
                    raise TargetError(
                        f"state directory busy: {self._path} held > {self._timeout:.0f}s"
                    ) from None
                time.sleep(0.01)
