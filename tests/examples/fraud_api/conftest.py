"""An in-process fraud API (its lifespan run, no network) for the example's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import cast

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from examples.fraud_api.faults import FaultSettings
from examples.fraud_api.main import create_service

ServiceFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def fraud_api() -> ServiceFactory:
    """`async with fraud_api(fault_error_rate=1.0) as client:` — a client for one service."""

    @asynccontextmanager
    async def open_service(**faults: object) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(app_name="fraud-api", app_version="v3", rate_limit_enabled=False)
        service = create_service(settings, FaultSettings.model_validate(faults))
        app = cast(FastAPI, service.app)
        transport = httpx.ASGITransport(service, raise_app_exceptions=False)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://fraud-api"
        ) as client:
            yield client

    return open_service
