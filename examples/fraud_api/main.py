"""The fraud API as a service: `app.main.create_app(settings)` plus the fraud routes.

Serve one instance with
`python -m uvicorn examples.fraud_api.main:create_service --factory --port 8000`; settings come
from the environment (APP_NAME, APP_VERSION, ... as in `app.config.Settings`, faults as in
`examples.fraud_api.faults`). Metrics, health and the middleware are the runtime's (`app/`), so
the numbers the canary analysis reads are the ones every Floodgate service emits.
"""

from __future__ import annotations

import time

from starlette.middleware import Middleware

from app.config import Settings
from app.main import create_app
from examples.fraud_api.faults import FaultInjectionMiddleware, FaultSettings
from examples.fraud_api.routes import router
from examples.fraud_api.version_header import VersionHeaderMiddleware


def create_service(
    settings: Settings | None = None, faults: FaultSettings | None = None
) -> VersionHeaderMiddleware:
    """Build the service; with no arguments, everything comes from the environment."""
    settings = settings if settings is not None else Settings()
    faults = faults if faults is not None else FaultSettings()
    if faults.startup_delay_seconds:
        time.sleep(faults.startup_delay_seconds)  # before uvicorn binds: a slow start
    app = create_app(settings)
    app.include_router(router)
    # Innermost (closest to the routes), so the monitoring middleware measures injected faults.
    app.user_middleware.append(Middleware(FaultInjectionMiddleware, faults=faults))
    return VersionHeaderMiddleware(app, settings.app_version)
