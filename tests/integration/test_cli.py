"""The `floodgate` command against a real local stack: bad input, refusals, status, steering."""

from __future__ import annotations

import json
import time

import pytest

from flows.model import Phase
from tests.integration.helpers import (
    CLI_FAST,
    assert_consistent,
    floodgate,
    floodgate_background,
    record,
)
from tests.support.local_stack import APP, RunningStack
from tests.support.prefect_server import PrefectServer

pytestmark = pytest.mark.integration


def state_of(stack: RunningStack) -> tuple[object, ...]:
    """Everything a refused command must leave untouched."""
    target = stack.target
    return (
        target.get_weights(APP),
        sorted(i.name for i in target.instances(APP)),
        target.load_record(APP),
        [s.id for s in target.snapshots(APP)],
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy", "no-such-app", "v2"], "no local app named 'no-such-app' (registered"),
        (["deploy", APP, "v2", "--steps", "50,10,100"], "--steps: Value error, steps must"),
        (["deploy", APP, "v2", "--steps", "5,x"], "--steps '5,x'"),
        (["deploy", APP, "v2", "--env", "NOVALUE"], "--env 'NOVALUE': expected KEY=VALUE"),
        (["deploy", APP, "v2", "--env", "1X=y"], "--env"),
        (["deploy", APP, "v 2"], "VERSION"),
        (["deploy", APP, "v2", "--strategy", "big-bang"], "big-bang"),
        (["deploy", APP, "v1"], "already runs v1"),
        (["deploy", APP, "v2", "--target", "nowhere"], "no target named 'nowhere'"),
        (["rollback", APP, "--to", "nope"], "nope"),
        (["promote", APP], "cannot promote"),
        (["resume", APP], "nothing to resume"),
        (["status", "ghost"], "no local app named 'ghost'"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(
    stack: RunningStack, prefect_server: PrefectServer, args: list[str], message: str
) -> None:
    before = state_of(stack)
    result = floodgate(args, stack, prefect_server)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split()), result.stderr
    assert state_of(stack) == before


def test_status_json_reads_what_serves(stack: RunningStack, prefect_server: PrefectServer) -> None:
    result = floodgate(["status", APP, "--json"], stack, prefect_server)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["app"] == APP
    assert data["stable_version"] == "v1"
    assert data["weights"] == {"v1": 100}
    assert data["entrypoint"] == stack.entry_url
    assert data["phase"] in {p.value for p in Phase} | {"Idle"}


def test_deploy_history_and_rollback_to_the_snapshot(
    stack: RunningStack, prefect_server: PrefectServer
) -> None:
    deploy = floodgate(["deploy", APP, "v2", "--strategy", "blue-green", *CLI_FAST],
                       stack, prefect_server)  # fmt: skip
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "Succeeded" in deploy.stdout
    promoted = record(stack)
    assert_consistent(stack, "v2")

    history = floodgate(["history", APP, "--json"], stack, prefect_server)
    assert json.loads(history.stdout)[0]["id"] == promoted.id

    back = floodgate(["rollback", APP, "--to", promoted.snapshot_id or ""], stack, prefect_server)
    assert back.returncode == 3, back.stdout + back.stderr
    restored = record(stack)
    assert restored.kind == "restore"
    assert restored.phase is Phase.ROLLED_BACK
    assert_consistent(stack, "v1")


def test_a_faulty_version_exits_3(stack: RunningStack, prefect_server: PrefectServer) -> None:
    result = floodgate(
        ["deploy", APP, "v3", "--env", "FAULT_ERROR_RATE=0.3", *CLI_FAST], stack, prefect_server
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "error rate" in result.stdout
    assert_consistent(stack, "v1")


def test_second_rollout_is_refused_and_abort_rolls_the_first_back(
    stack: RunningStack, prefect_server: PrefectServer
) -> None:
    slow = ["--steps", "10,50,100", "--step-interval", "120", "--health-retries", "20",
            "--health-delay", "0.5"]  # fmt: skip
    first = floodgate_background(["deploy", APP, "v2", *slow], stack, prefect_server)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        raw = stack.target.load_record(APP)
        if raw is not None and raw["phase"] == "Analysing" and raw["spec"]["version"] == "v2":
            break
        time.sleep(0.2)
    else:
        first.kill()
        pytest.fail(f"the first rollout never reached Analysing: {first.communicate()}")

    second = floodgate(["deploy", APP, "v3"], stack, prefect_server)
    assert second.returncode == 2
    assert "unfinished canary rollout to v2" in " ".join(second.stderr.split())

    abort = floodgate(["abort", APP], stack, prefect_server)
    assert abort.returncode == 0, abort.stdout + abort.stderr
    out, err = first.communicate(timeout=60)
    assert first.returncode == 3, out + err
    assert record(stack).reason.startswith("aborted by user")
    assert_consistent(stack, "v1")
