"""The CI recipe in `app.control`'s docstring, run as written: bash + openssl + curl against
`uvicorn app.control.main:create_control_app --factory`, configured only by environment
variables, on the local target and a real Prefect server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

import app.control
from blocks.local.apps import LocalApp
from blocks.local.settings import LocalSettings
from blocks.local.target import LocalTarget
from tests.app.control.conftest import SECRET, TOKEN, read_flow_run
from tests.support.ports import free_port
from tests.support.uvicorn_app import running_app

pytestmark = pytest.mark.integration


def documented_script() -> str:
    match = re.search(r"```sh\n(.*?)```", app.control.__doc__ or "", re.S)
    assert match is not None, "the shell recipe is missing from app.control's docstring"
    return match.group(1)


def run_recipe(url: str, delivery: str) -> dict[str, Any]:
    env = {"PATH": "/usr/bin:/bin", "FLOODGATE_URL": url, "FLOODGATE_WEBHOOK_SECRET": SECRET,
           "APP": "fraud-api", "VERSION": "v2", "STRATEGY": "blue-green", "DELIVERY": delivery}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", documented_script()], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def test_the_documented_recipe_starts_a_rollout_and_a_retry_replays_it(
    tmp_path, floodgate_deployments
):
    home = tmp_path / "floodgate"
    LocalTarget(LocalSettings(state_dir=home)).register_app(LocalApp(
        name="fraud-api", command=[sys.executable, "-m", "http.server", "{port}"],
        entry_port=free_port(), preview_port=free_port(),
    ))  # fmt: skip
    env = {"PREFECT_API_URL": floodgate_deployments.api_url, "FLOODGATE_HOME": str(home),
           "CONTROL_WEBHOOK_SECRETS": json.dumps([SECRET]),
           "CONTROL_API_TOKENS": json.dumps([TOKEN]), "CONFIGURE_LOGGING": "false"}
    with running_app(env, target="app.control.main:create_control_app",
                     workdir=tmp_path) as address:
        first = run_recipe(f"http://{address}", "gh-123-1")
        again = run_recipe(f"http://{address}", "gh-123-1")
    assert (first["status"], again["status"]) == ("started", "replayed")
    assert again["flow_run_id"] == first["flow_run_id"]
    run = await read_flow_run(first["flow_run_id"])
    assert run.parameters == {"spec": {"app": "fraud-api", "version": "v2",
                                       "strategy": "blue-green"}, "target": "local"}
