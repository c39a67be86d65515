"""Fixtures of the control API tests: a real Prefect server with Floodgate's deployments
registered (tests may import flows/, app/ may not), an in-memory target behind the Target
protocol, and the assembled app with its lifespan running."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.control.deps import get_target
from app.control.main import create_control_app
from blocks.target import Target
from tests.support.memory_target import MemoryApp, MemoryTarget
from tests.support.prefect_server import PrefectServer

TOKEN = "operator-token-0123456789"
SECRET = "webhook-secret-0123456789abcdef"
DEPLOYMENTS = ("deploy/rollout", "rollback/restore", "progress/every-minute")


@dataclass(frozen=True)
class RegisteredDeployments:
    api_url: str
    ids: dict[str, str]  # "flow/deployment" -> deployment id


@pytest.fixture(scope="session")
def floodgate_deployments(prefect_server: PrefectServer) -> RegisteredDeployments:
    """The three deployments `flows.serve` registers, applied to the test server (no schedule
    and no runner: the tests check the runs the API creates, nothing executes them)."""
    from flows.deploy import deploy
    from flows.rollback import progress, rollback

    ids: dict[str, str] = {}
    for flow, name in ((deploy, "rollout"), (rollback, "restore"), (progress, "every-minute")):
        deployment: Any = flow.to_deployment(name=name, parameters={"target": "local"})
        ids[f"{flow.name}/{name}"] = str(deployment.apply())
    return RegisteredDeployments(prefect_server.api_url, ids)


def control_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_name": "floodgate",
        "configure_logging": False,
        "control_api_tokens": [TOKEN],
        "control_webhook_secrets": [SECRET],
        "rate_limit_requests": 1_000_000,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def app_name() -> str:
    """A fresh app name per test: flow runs persist in the session's Prefect server, so runs of
    one test must not look like unfinished rollouts of the same app in the next."""
    return f"fraud-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def memory_target(app_name: str) -> MemoryTarget:
    return MemoryTarget([MemoryApp(app_name, stable_version="v1"), MemoryApp("payments", "v7")])


@dataclass
class Control:
    app: FastAPI
    client: httpx.AsyncClient
    target: Target

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, headers=_auth(kwargs.pop("headers", None)), **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=_auth(kwargs.pop("headers", None)), **kwargs)


def _auth(headers: dict[str, str] | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", **(headers or {})}


ControlFactory = Callable[..., Any]


@pytest.fixture
async def start_control() -> AsyncIterator[ControlFactory]:
    """`await start_control(settings, target)` → a running `Control`; closed after the test."""
    stacks: list[tuple[Any, httpx.AsyncClient]] = []

    async def start(settings: Settings, target: Target) -> Control:
        app = create_control_app(settings)
        app.dependency_overrides[get_target] = lambda: target
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://control")
        stacks.append((lifespan, client))
        return Control(app, client, target)

    yield start
    for lifespan, client in reversed(stacks):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def control(
    start_control: ControlFactory,
    floodgate_deployments: RegisteredDeployments,
    memory_target: MemoryTarget,
) -> Control:
    """The control API on the real Prefect server, steering `memory_target`."""
    settings = control_settings(prefect_api_url=floodgate_deployments.api_url)
    result: Control = await start_control(settings, memory_target)
    return result


def save_rollout(target: Target, app: str, version: str, phase: str, **changes: Any) -> str:
    """Store a rollout record in `phase` the way the flows do; returns its id."""
    from flows.model import Phase, Rollout
    from flows.spec import RolloutSpec

    spec = RolloutSpec(app=app, version=version, strategy=changes.pop("strategy", "canary"))
    rollout = Rollout(spec=spec, from_version="v1").model_copy(
        update={"phase": Phase(phase), **changes}
    )
    target.save_record(app, rollout.model_dump(mode="json"))
    return rollout.id


async def read_flow_run(flow_run_id: str) -> Any:
    """The flow run as Prefect's own client reads it back."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_flow_run(uuid.UUID(flow_run_id))


async def runs_for_app(deployment_id: str, app: str) -> list[Any]:
    """Every flow run of a deployment whose parameters name `app` (spec.app or app)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async with get_client() as client:
        runs = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(
                id=DeploymentFilterId(any_=[uuid.UUID(deployment_id)])
            )
        )
    return [r for r in runs
            if (r.parameters.get("spec") or {}).get("app", r.parameters.get("app")) == app]
