"""Fault injection for rollout drills, configured by environment (read once at start-up).

| variable              | effect                                                           |
|-----------------------|------------------------------------------------------------------|
| FAULT_ERROR_RATE      | fraction (0..1) of business requests answered 500                |
| FAULT_LATENCY_MS      | extra delay before every business request                        |
| FAULT_UNHEALTHY=1     | `GET /health` answers 503 (the instance never passes its checks) |
| STARTUP_DELAY_SECONDS | the process sleeps before it listens (a slow start)              |

"Business requests" are everything but `/health*` and `/metrics`, so a faulty version still
reports its metrics and the analysis sees the faults. The middleware sits *inside* the
monitoring middleware and lets the request reach its route before replacing the answer, so
injected 500s and delays are measured exactly like real ones, under the real route template.
Invalid values stop the service at start-up with pydantic's message naming the variable.
"""

from __future__ import annotations

import asyncio
import json
import random

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class FaultSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    fault_error_rate: float = Field(0.0, ge=0, le=1)
    fault_latency_ms: float = Field(0.0, ge=0, le=60_000)
    fault_unhealthy: bool = False
    startup_delay_seconds: float = Field(0.0, ge=0, le=600)


def _exempt(path: str) -> bool:
    return path == "/metrics" or path == "/health" or path.startswith("/health/")


class FaultInjectionMiddleware:
    """Pure ASGI: answers 503 on health when unhealthy, delays and fails business requests."""

    def __init__(
        self,
        app: ASGIApp,
        faults: FaultSettings,
        health_path: str = "/health",
        rng: random.Random | None = None,
    ) -> None:
        self.app = app
        self.faults = faults
        self.health_path = health_path
        self._rng = rng or random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        faults = self.faults
        if faults.fault_unhealthy and path == self.health_path:
            unhealthy = {"status": "unhealthy", "reason": "FAULT_UNHEALTHY is set"}
            await self._answer_instead(scope, receive, send, 503, unhealthy)
            return
        if not _exempt(path):
            if faults.fault_latency_ms:
                await asyncio.sleep(faults.fault_latency_ms / 1000)
            if faults.fault_error_rate and self._rng.random() < faults.fault_error_rate:
                failure = {"detail": "injected fault (FAULT_ERROR_RATE)"}
                await self._answer_instead(scope, receive, send, 500, failure)
                return
        await self.app(scope, receive, send)

    async def _answer_instead(
        self, scope: Scope, receive: Receive, send: Send, status: int, body: dict[str, str]
    ) -> None:
        """Run the route (so it is matched and labelled) but send `status`/`body` instead."""
        sent = False

        async def replace(message: Message) -> None:
            nonlocal sent
            if (
                message["type"] == "http.response.body"
                and not message.get("more_body")
                and not sent
            ):
                sent = True
                await _json(send, status, body)

        await self.app(scope, receive, replace)
        if not sent:
            await _json(send, status, body)


async def _json(send: Send, status: int, body: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
