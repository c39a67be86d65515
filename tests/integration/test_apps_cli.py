"""`floodgate apps` and `floodgate apps register` on a real local stack (its own, since
registering an app changes the stack for good)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.helpers import ROOT, floodgate
from tests.support.local_stack import RunningStack, wait_ready
from tests.support.ports import free_port
from tests.support.prefect_server import PrefectServer

pytestmark = pytest.mark.integration


def example(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load((ROOT / "examples/local-app.yaml").read_text())
    data.update(entry_port=free_port(), preview_port=free_port(), **changes)
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"replicas": 0}, "replicas"),
        ({"surprise": 1}, "surprise"),
        ({"name": "Bad_Name"}, "name"),
        ({"command": ["python3", "-m", "http.server"]}, "{port}"),
    ],
)
def test_a_bad_definition_exits_2_naming_the_field(
    stack: RunningStack, prefect_server: PrefectServer, tmp_path: Path,
    changes: dict[str, object], message: str,
) -> None:  # fmt: skip
    result = floodgate(["apps", "register", str(example(tmp_path, **changes))], stack,
                       prefect_server)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert stack.target.apps() == ["fraud-api"]


def test_register_starts_the_app_and_lists_it(
    stack: RunningStack, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    path = example(tmp_path)
    port = yaml.safe_load(path.read_text())["entry_port"]
    result = floodgate(["apps", "register", str(path)], stack, prefect_server)
    assert result.returncode == 0, result.stdout + result.stderr
    wait_ready(stack.target, "scorer", "v1")
    answer = httpx.get(f"http://127.0.0.1:{port}/model", timeout=5)
    assert answer.headers["x-version"] == "v1"
    listed = floodgate(["apps", "--json"], stack, prefect_server)
    apps = {row["app"]: row for row in json.loads(listed.stdout)}
    assert set(apps) == {"fraud-api", "scorer"}
    assert apps["scorer"]["stable_version"] == "v1"
    assert apps["scorer"]["entrypoint"] == f"http://127.0.0.1:{port}"
