import subprocess
import sys

import pytest

from blocks.errors import ConfigurationError
from flows.targets import local_home, resolve


def test_local_resolves_from_floodgate_home_without_importing_prefect(tmp_path):
    code = (
        "import sys; from flows.targets import resolve; r = resolve('local'); "
        "print(r.target.name, 'prefect' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"FLOODGATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                          check=True)  # fmt: skip
    assert done.stdout.split() == ["local", "False"]


def test_local_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOODGATE_HOME", str(tmp_path / "x"))
    assert local_home() == (tmp_path / "x").resolve()


def test_an_unknown_target_type_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="unknown target type 'nomad'; known: "):
        resolve("nomad/prod")
