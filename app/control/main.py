"""`create_control_app(settings)`: the runtime app (`app.main.create_app`: correlation ids,
metrics, rate limiting, validation, /health, /metrics) plus the control routes.

    uvicorn app.control.main:create_control_app --factory --host 0.0.0.0 --port 8000

The control API's own clients (the Prefect REST client, the target) are added to the runtime's
lifespan by wrapping it, so `create_app` stays the single place the middleware is assembled.

`/rollouts` and `/webhooks/` take configuration bodies whose `env` values may legitimately look
like SQL or markup (`QUERY="SELECT id FROM t WHERE a = 1"`): they are added to
VALIDATION_UNSCREENED_PATHS, so the validation middleware keeps the body-size limit (and refuses
what would crash the app) but does not judge the values. Those routes authenticate every caller
(bearer token, signed webhook) and validate the body's shape themselves; every other path is
still screened.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.control.errors import install_error_handlers
from app.control.launch import AppLocks
from app.control.prefect_api import PrefectDeployments
from app.control.routes import apps, rollouts, webhooks
from app.control.targets import TargetProvider
from app.main import create_app
from app.validation.fastapi_errors import install_validation_error_handler

logger = logging.getLogger("floodgate.control")
CONTROL_UNSCREENED_PATHS = ("/rollouts", "/webhooks/")


def create_control_app(settings: Settings | None = None) -> FastAPI:
    """The control API; with no argument, settings come from the environment."""
    settings = with_control_unscreened_paths(
        settings if settings is not None else Settings()
    )
    app = create_app(settings)
    app.title = f"{settings.app_name} control API"
    app.state.target_provider = TargetProvider(settings)
    app.state.app_locks = AppLocks()
    install_validation_error_handler(app)  # a 422 that echoes bad bytes must not become a 500
    install_error_handlers(app)
    for module in (rollouts, apps, webhooks):
        app.include_router(module.router)
    _wrap_lifespan(app, settings)
    return app


def with_control_unscreened_paths(settings: Settings) -> Settings:
    """`settings` with the control routes added to VALIDATION_UNSCREENED_PATHS (see above)."""
    paths = list(dict.fromkeys([*settings.validation_unscreened_paths, *CONTROL_UNSCREENED_PATHS]))
    return settings.model_copy(update={"validation_unscreened_paths": paths})


def _wrap_lifespan(app: FastAPI, settings: Settings) -> None:
    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app), AsyncExitStack() as stack:
            app.state.prefect_deployments = None
            if settings.prefect_api_url is not None:
                client = await stack.enter_async_context(_prefect_client(settings))
                app.state.prefect_deployments = PrefectDeployments(
                    client, settings.prefect_api_url
                )
            _warn_if_unusable(settings)
            yield

    app.router.lifespan_context = lifespan


def _prefect_client(settings: Settings) -> httpx.AsyncClient:
    headers = {}
    if settings.prefect_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.prefect_api_key.get_secret_value()}"
    return httpx.AsyncClient(headers=headers, timeout=settings.control_prefect_timeout_seconds)


def _warn_if_unusable(settings: Settings) -> None:
    if not settings.control_api_tokens:
        logger.warning("CONTROL_API_TOKENS is not set: operator endpoints answer 503")
    if not settings.control_webhook_secrets:
        logger.warning("CONTROL_WEBHOOK_SECRETS is not set: POST /webhooks/ci answers 503")
    if settings.prefect_api_url is None:
        logger.warning("PREFECT_API_URL is not set: rollouts cannot be started")
