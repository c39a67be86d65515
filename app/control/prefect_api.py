"""The Prefect deployments the control API runs, over Prefect's REST API.

Why plain httpx rather than `prefect.deployments.run_deployment`: the same server calls
(`GET /deployments/name/{flow}/{deployment}`, `POST /deployments/{id}/create_flow_run` with an
`idempotency_key`), but with one deadline per call and no hidden retries of a server that went
away — Prefect's client retries those with exponential backoff for tens of seconds, while an
HTTP caller (a CI job, a person) should get a 503 with the reason at once and retry on its own.
The one answer asked again is Prefect's own "busy, nothing was done, try again" (BUSY_ANSWER),
for under a second. It also keeps Prefect's process-global settings out of the API: the URL
comes from `Settings`.

Failure policy — fail-safe: when Prefect cannot be reached, or answers 5xx, nothing is started
and the caller gets 503 (`PrefectUnavailable`). A rollout is only ever started by Prefect
creating its flow run, so a rollout the orchestrator has no record of cannot exist.

Replays: the server answers 201 for a new flow run and 200 when the idempotency key already
names one (same flow run id), which `create_run` reports as `created`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from app.control.errors import ControlError, field_error

T = TypeVar("T")
# Prefect's server answers 503 with exactly this body for errors it knows a client may retry:
# its database was busy or locked (SQLite under concurrent writes) and the request was rolled
# back (prefect/server/api/server.py, `is_client_retryable_exception`). Such a call is asked
# again after these pauses (0.8 s in all); any other 5xx, and a 503 from anything else (a proxy,
# a server going away), is not retried.
BUSY_ANSWER = {"exception_message": "Service Unavailable"}
BUSY_PAUSES = (0.05, 0.2, 0.55)
ACTIVE_STATE_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING")
ACTIVE_RUNS_LIMIT = 200
_SCHEMA_REFUSAL = re.compile(
    r"Validation failed for field '(?P<field>[^']*)'\. Failure reason: (?P<reason>.*)", re.S
)


class PrefectUnavailable(ControlError):
    """Prefect could not be asked (down, slow, 5xx, refused our credentials): 503."""

    def __init__(self, reason: str) -> None:
        super().__init__(503, f"Prefect API unavailable, nothing was started: {reason}")


class DeploymentMissing(ControlError):
    """The deployment is not registered: a configuration problem of the server side, 503."""

    def __init__(self, name: str) -> None:
        super().__init__(
            503,
            f"deployment {name!r} is not registered on the Prefect server; start the flow "
            "server (`floodgate local up` or `python -m flows.serve`) or fix "
            "CONTROL_*_DEPLOYMENT",
        )


class ParametersRejected(ControlError):
    """Prefect's server-side parameter validation refused the run: 422 naming the field."""

    def __init__(self, detail: str, loc_prefix: tuple[str, ...]) -> None:
        match = _SCHEMA_REFUSAL.search(detail)
        if match is None:
            errors = [field_error(loc_prefix, detail, "prefect_parameters")]
        else:
            path = tuple(p for p in match["field"].split(".") if p)
            if path and path[0] == "spec":  # the request body is the spec
                path = path[1:]
            errors = [field_error((*loc_prefix, *path), match["reason"].strip(), "prefect_schema")]
        super().__init__(422, errors)


@dataclass(frozen=True)
class FlowRunRef:
    """The parts of a Prefect flow run the API answers with or decides on."""

    id: str
    name: str
    state_type: str
    state_name: str
    parameters: dict[str, Any]
    idempotency_key: str | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FlowRunRef:
        state = data.get("state") or {}
        parameters = data.get("parameters")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            state_type=str(state.get("type", "UNKNOWN")),
            state_name=str(state.get("name", "Unknown")),
            parameters=parameters if isinstance(parameters, dict) else {},
            idempotency_key=data.get("idempotency_key"),
        )

    @property
    def active(self) -> bool:
        return self.state_type in ACTIVE_STATE_TYPES


def _flow_and_deployment(name: str) -> tuple[str, str]:
    flow, _, deployment = name.partition("/")
    return flow, deployment


class PrefectDeployments:
    """Create and read flow runs of named deployments on one Prefect API."""

    def __init__(self, client: httpx.AsyncClient, api_url: str) -> None:
        self._client = client
        self.api_url = api_url.rstrip("/")

    async def _call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        for pause in (*BUSY_PAUSES, None):
            try:
                response = await self._client.request(method, f"{self.api_url}{path}", json=json)
            except httpx.TransportError as error:
                raise PrefectUnavailable(
                    f"{type(error).__name__} reaching {self.api_url}: {error or 'no detail'}"
                ) from error
            if pause is None or not _busy(response):
                break
            await asyncio.sleep(pause)  # Prefect rolled the request back: ask again
        if response.status_code >= 500 or response.status_code in (401, 403):
            raise PrefectUnavailable(
                f"{method} {path} answered {response.status_code}: {response.text[:300]}"
            )
        return response

    async def deployment_id(self, name: str) -> str:
        flow, deployment = _flow_and_deployment(name)
        response = await self._call("GET", f"/deployments/name/{flow}/{deployment}")
        if response.status_code == 404:
            raise DeploymentMissing(name)
        _expect(response, 200)
        return str(_json(response, lambda data: data["id"]))

    async def create_run(
        self,
        name: str,
        parameters: dict[str, Any],
        idempotency_key: str | None = None,
        *,
        loc_prefix: tuple[str, ...] = ("body",),
    ) -> tuple[FlowRunRef, bool]:
        """Schedule a run of `name`; (run, True) if new, (run, False) if the key named one."""
        deployment_id = await self.deployment_id(name)
        body: dict[str, Any] = {"parameters": parameters}
        if idempotency_key is not None:
            body["idempotency_key"] = idempotency_key
        response = await self._call("POST", f"/deployments/{deployment_id}/create_flow_run", body)
        if response.status_code in (400, 409, 422):
            raise ParametersRejected(_detail(response), loc_prefix)
        _expect(response, 200, 201)
        return _json(response, FlowRunRef.from_api), response.status_code == 201

    async def find_by_idempotency_key(self, name: str, key: str) -> FlowRunRef | None:
        runs = await self._filter(name, {"idempotency_key": {"any_": [key]}}, limit=1)
        return runs[0] if runs else None

    async def active_runs(self, name: str) -> list[FlowRunRef]:
        """Runs of `name` not finished yet (scheduled, pending, running, paused, cancelling)."""
        state = {"type": {"any_": list(ACTIVE_STATE_TYPES)}}
        return await self._filter(name, {"state": state}, limit=ACTIVE_RUNS_LIMIT)

    async def read_run(self, flow_run_id: str) -> FlowRunRef | None:
        response = await self._call("GET", f"/flow_runs/{flow_run_id}")
        if response.status_code in (404, 422):  # 422: not a UUID (a record from elsewhere)
            return None
        _expect(response, 200)
        return _json(response, FlowRunRef.from_api)

    async def resume_paused(self, flow_run_id: str, run_input: dict[str, Any]) -> bool:
        """Resume a run paused at Floodgate's manual gate with a decision; False if it is not
        paused (any more)."""
        run = await self.read_run(flow_run_id)
        if run is None or run.state_type != "PAUSED":
            return False
        response = await self._call(
            "POST", f"/flow_runs/{flow_run_id}/resume", {"run_input": run_input}
        )
        _expect(response, 200, 201)
        status: Any = _json(response, lambda data: data.get("status"))
        return bool(status == "ACCEPT")

    async def _filter(
        self, name: str, flow_run_filter: dict[str, Any], limit: int
    ) -> list[FlowRunRef]:
        deployment_id = await self.deployment_id(name)
        flow_runs = {"deployment_id": {"any_": [deployment_id]}, **flow_run_filter}
        body = {"flow_runs": flow_runs, "limit": limit, "sort": "EXPECTED_START_TIME_DESC"}
        response = await self._call("POST", "/flow_runs/filter", body)
        _expect(response, 200)
        return _json(response, lambda items: [FlowRunRef.from_api(item) for item in items])


def _busy(response: httpx.Response) -> bool:
    """Prefect's own "try again" answer (see BUSY_PAUSES)."""
    if response.status_code != 503:
        return False
    try:
        return bool(response.json() == BUSY_ANSWER)
    except ValueError:
        return False


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else response.text[:500]


def _json(response: httpx.Response, read: Callable[[Any], T]) -> T:
    """`read(body)`; a body that is not the JSON Prefect sends (a proxy's HTML page, a UI URL
    given as the API URL) is a Prefect we cannot use: 503, never a 500."""
    try:
        return read(response.json())
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PrefectUnavailable(
            f"{response.request.url.path} answered what is not Prefect's API "
            f"({type(error).__name__}: {error}); is PREFECT_API_URL the API (…/api)?"
        ) from error


def _expect(response: httpx.Response, *statuses: int) -> None:
    """Any other answer is a Prefect we do not understand: refuse to act on it (503)."""
    if response.status_code not in statuses:
        raise PrefectUnavailable(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )


def ui_run_url(settings_ui_url: str | None, api_url: str, flow_run_id: str) -> str | None:
    """Where a person watches the run: the Prefect UI's flow-run page.

    A self-hosted server serves its UI next to `/api`; Prefect Cloud's UI lives elsewhere, so
    without `PREFECT_UI_URL` no link is made for it.
    """
    base = settings_ui_url
    if base is None:
        trimmed = api_url.rstrip("/")
        if not trimmed.endswith("/api"):
            return None
        base = trimmed[: -len("/api")]
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}"
