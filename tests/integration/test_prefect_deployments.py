"""The deployments `floodgate local up` serves: a rollout triggered as the Prefect UI does, and a
detached canary finished by the scheduled `progress` deployment."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from prefect.deployments import run_deployment

from flows.model import Phase
from tests.integration.helpers import (
    CLI_FAST,
    P95_TOLERANCE_SECONDS,
    ROOT,
    assert_consistent,
    cli_env,
    fast_spec,
    floodgate,
    floodgate_background,
    record,
)
from tests.support.local_stack import APP, RunningStack
from tests.support.ports import free_port, wait_for_port
from tests.support.prefect_server import PrefectServer

pytestmark = pytest.mark.integration


DEPLOYMENTS = ("deploy/rollout", "rollback/restore", "progress/every-minute")


def wait_for_deployments(process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            try:
                for name in DEPLOYMENTS:
                    client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("flows.serve never registered its deployments")
                time.sleep(0.5)


def delete_unfinished_runs() -> None:
    """The session's Prefect server is shared: other tests (the control API's) create runs of
    these deployments that nobody executes. A flow server started here would pick them up and
    roll this stack out with their parameters, so they go first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    unfinished = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[
        StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED,
    ])))  # fmt: skip
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(flow_run_filter=unfinished, limit=200):
            client.delete_flow_run(run.id)


@pytest.fixture
def flow_server(stack: RunningStack, prefect_server: PrefectServer) -> Iterator[None]:
    """`python -m flows.serve` as `floodgate local up` runs it, polling every second."""
    delete_unfinished_runs()
    env = cli_env(stack, prefect_server, PREFECT_RUNNER_POLL_FREQUENCY="1",
                  FLOODGATE_PROGRESS_INTERVAL_SECONDS="3")  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.serve"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_deployments(process)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_phase(
    stack: RunningStack, version: str, phases: set[Phase], timeout: float,
    flow_run_id: str | None = None,
) -> None:  # fmt: skip
    """Until the app's rollout to `version` (driven by `flow_run_id`, if given — an earlier
    test's rollout to the same version must not count) is in one of `phases`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = stack.target.load_record(APP)
        if (
            raw
            and raw["spec"]["version"] == version
            and Phase(raw["phase"]) in phases
            and (flow_run_id is None or flow_run_id in raw["flow_run_ids"])
        ):
            return
        time.sleep(0.5)
    pytest.fail(f"{version} never reached {phases}: {stack.target.load_record(APP)}")


def test_a_rollout_started_like_the_prefect_ui_runs_on_the_flow_server(
    stack: RunningStack, flow_server: None
) -> None:
    spec = fast_spec(strategy="blue-green")
    flow_run = run_deployment(
        "deploy/rollout",
        parameters={"spec": spec.model_dump(mode="json"), "target": "local"},
        timeout=240,
        poll_interval=1,
        # A client retry on a busy server must not create a second run of the same rollout.
        idempotency_key=f"ui-test-{time.time_ns()}",
    )
    assert flow_run.state is not None
    assert flow_run.state.is_completed(), flow_run.state
    rollout = record(stack)
    assert rollout.phase is Phase.SUCCEEDED
    assert str(flow_run.id) in rollout.flow_run_ids
    assert_consistent(stack, "v2")


def test_bad_parameters_are_refused_by_the_server(flow_server: None) -> None:
    from prefect.exceptions import PrefectHTTPStatusError

    with pytest.raises(PrefectHTTPStatusError, match=r"409|422"):
        run_deployment(
            "deploy/rollout",
            parameters={"spec": {"app": APP, "version": "v2", "steps": "5,x"}},
            timeout=0,
        )


def test_a_detached_canary_is_finished_by_the_progress_schedule(
    stack: RunningStack, prefect_server: PrefectServer, flow_server: None
) -> None:
    started = floodgate(["deploy", APP, "v2", "--detach", *CLI_FAST], stack, prefect_server)
    assert started.returncode == 0, started.stdout + started.stderr
    assert record(stack).phase is Phase.ANALYSING, "--detach returns at the first dwell"
    wait_for_phase(stack, "v2", {Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED}, 180)
    final = record(stack)
    assert final.phase is Phase.SUCCEEDED, final.reason
    assert len(final.flow_run_ids) >= 2, "progress runs are linked to the rollout"
    assert_consistent(stack, "v2")


@pytest.fixture
def control_api(stack: RunningStack, prefect_server: PrefectServer) -> Iterator[str]:
    """The control API as `floodgate local up` starts it (its own uvicorn process)."""
    port = free_port()
    env = cli_env(stack, prefect_server, CONTROL_TARGET="local",
                  CONTROL_API_TOKENS=json.dumps([TOKEN]),
                  CONTROL_WEBHOOK_SECRETS=json.dumps([SECRET]))  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.control.main:create_control_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


TOKEN = "test-token-0123456789abcdef"
SECRET = "test-secret-0123456789abcdef"


def signed(body: bytes, delivery: str) -> dict[str, str]:
    ts = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), f"{delivery}.{ts}.".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Floodgate-Delivery": delivery,
        "X-Floodgate-Timestamp": ts,
        "X-Floodgate-Signature": f"sha256={mac.hexdigest()}",
    }


def test_a_ci_webhook_rolls_the_app_out_end_to_end(
    stack: RunningStack, flow_server: None, control_api: str
) -> None:
    body = json.dumps({"app": APP, "version": "v2", "strategy": "canary",
                       **fast_spec("canary").model_dump(
                           mode="json", include={"steps", "step_interval_seconds", "health",
                                                 "analysis"})}).encode()  # fmt: skip
    first = httpx.post(f"{control_api}/webhooks/ci", content=body,
                       headers=signed(body, "ci-run-1"), timeout=30)  # fmt: skip
    assert first.status_code == 202, first.text
    replay = httpx.post(f"{control_api}/webhooks/ci", content=body,
                        headers=signed(body, "ci-run-1"), timeout=30)  # fmt: skip
    assert replay.status_code == 200, replay.text
    assert replay.json()["flow_run_id"] == first.json()["flow_run_id"]
    forged = dict(signed(body, "ci-run-2"), **{"X-Floodgate-Signature": "sha256=" + "0" * 64})
    assert httpx.post(f"{control_api}/webhooks/ci", content=body, headers=forged).status_code == 401

    run_id = first.json()["flow_run_id"]
    wait_for_phase(stack, "v2", {Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED}, 240, run_id)
    final = record(stack)
    assert final.phase is Phase.SUCCEEDED, final.reason
    status = httpx.get(f"{control_api}/rollouts/{APP}",
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)  # fmt: skip
    assert status.json()["weights"] == {"v2": 100}
    assert_consistent(stack, "v2")


GATED = ["--steps", "10,50,100", "--step-interval", "2", "--pause-before-promote",
         "--health-retries", "20", "--health-delay", "0.5", "--analysis-window", "6",
         "--min-requests", "5", "--p95-tolerance", str(P95_TOLERANCE_SECONDS)]  # fmt: skip


def paused_flow_run(stack: RunningStack) -> str:
    """Wait for the rollout to pause at the gate; the id of the Prefect run waiting there."""
    from prefect.client.orchestration import get_client

    wait_for_phase(stack, "v2", {Phase.PAUSED}, 120)
    run_id = record(stack).flow_run_ids[-1]
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_paused():
                return run_id
            time.sleep(0.5)
    pytest.fail("the flow run never paused at the gate")


def test_the_gate_is_a_prefect_pause_resumed_with_a_decision(
    stack: RunningStack, prefect_server: PrefectServer
) -> None:
    from uuid import UUID

    from prefect.flow_runs import resume_flow_run

    deploy = floodgate_background(["deploy", APP, "v2", *GATED], stack, prefect_server)
    run_id = paused_flow_run(stack)
    assert record(stack).weights == {"v1": 50, "v2": 50}
    # What the Prefect UI's resume form sends:
    resume_flow_run(UUID(run_id), run_input={"decision": "promote", "note": "looks good"})
    out, err = deploy.communicate(timeout=120)
    assert deploy.returncode == 0, out + err
    assert record(stack).phase is Phase.SUCCEEDED
    assert_consistent(stack, "v2")


def test_floodgate_abort_at_the_gate_rolls_back(
    stack: RunningStack, prefect_server: PrefectServer
) -> None:
    deploy = floodgate_background(["deploy", APP, "v2", *GATED], stack, prefect_server)
    paused_flow_run(stack)
    abort = floodgate(["abort", APP], stack, prefect_server)
    assert abort.returncode == 0, abort.stdout + abort.stderr
    assert "resumed the flow run waiting at the gate" in abort.stdout
    out, err = deploy.communicate(timeout=120)
    assert deploy.returncode == 3, out + err
    assert record(stack).reason.startswith("aborted by user")
    assert_consistent(stack, "v1")


def test_the_control_api_promotes_a_rollout_waiting_at_the_gate(
    stack: RunningStack, prefect_server: PrefectServer, control_api: str
) -> None:
    deploy = floodgate_background(["deploy", APP, "v2", *GATED], stack, prefect_server)
    paused_flow_run(stack)
    answer = httpx.post(f"{control_api}/rollouts/{APP}/promote",
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)  # fmt: skip
    assert answer.status_code == 202, answer.text
    assert answer.json()["driver"]["kind"] == "gate"
    out, err = deploy.communicate(timeout=120)
    assert deploy.returncode == 0, out + err
    assert_consistent(stack, "v2")
