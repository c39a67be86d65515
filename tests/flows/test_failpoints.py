import os
import signal
import subprocess
import sys
import time

import pytest

from flows import failpoints


def test_unarmed_failpoints_do_nothing(monkeypatch):
    monkeypatch.delenv("FLOODGATE_FAILPOINTS", raising=False)
    failpoints.hit("enter:Shifting")


def test_sleep_action(monkeypatch):
    monkeypatch.setenv("FLOODGATE_FAILPOINTS", "done:Analysing=sleep:0.2, enter:Shifting=kill")
    began = time.monotonic()
    failpoints.hit("done:Analysing")
    assert time.monotonic() - began >= 0.2
    failpoints.hit("enter:Preparing")  # another name: nothing


def test_unknown_action_is_an_error(monkeypatch):
    monkeypatch.setenv("FLOODGATE_FAILPOINTS", "enter:Shifting=explode")
    with pytest.raises(ValueError, match="unknown failpoint action 'explode'"):
        failpoints.hit("enter:Shifting")


def test_kill_is_a_real_sigkill():
    code = "from flows import failpoints; failpoints.hit('enter:Shifting'); print('survived')"
    env = {**os.environ, "FLOODGATE_FAILPOINTS": "enter:Shifting"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == -signal.SIGKILL
    assert "survived" not in done.stdout
