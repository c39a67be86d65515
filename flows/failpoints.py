"""Named crash points for chaos tests, in the spirit of etcd's gofail.

`FLOODGATE_FAILPOINTS="enter:Shifting=kill"` makes the process SIGKILL itself right after the
transition into Shifting is saved — before the step's side effect; `done:Shifting` fires after
the side effect but before the next transition is saved. The resume tests use them to kill a
flow at each of the six steps deterministically. Unset (the default), `hit` is one dict lookup.
"""

from __future__ import annotations

import os
import signal
import time

_ENV = "FLOODGATE_FAILPOINTS"


def _parse(text: str) -> dict[str, str]:
    points: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, action = item.partition("=")
        points[name.strip()] = action.strip() or "kill"
    return points


def hit(name: str) -> None:
    """Fire the failpoint `name` if the environment arms it (actions: kill, sleep:<s>)."""
    text = os.environ.get(_ENV)
    if not text:
        return
    action = _parse(text).get(name)
    if action is None:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action.startswith("sleep:"):
        time.sleep(float(action.removeprefix("sleep:")))
    else:
        raise ValueError(f"unknown failpoint action {action!r} for {name}")
