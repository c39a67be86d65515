"""Dependencies read app.state; lifespan-owned state missing is a 503, not a 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, HTTPException
from starlette.requests import Request

from app.api import deps
from app.config import Settings


def request_for(app: FastAPI) -> Request:
    return Request({"type": "http", "app": app, "headers": [], "method": "GET", "path": "/"})


def test_state_is_returned():
    app = FastAPI()
    app.state.settings = Settings(app_name="x")
    app.state.redis = None
    assert deps.get_settings(request_for(app)).app_name == "x"
    assert deps.get_redis(request_for(app)) is None


@pytest.mark.parametrize("dependency", [deps.get_health, deps.get_http_client, deps.get_redis,
                                        deps.get_session_store])
def test_missing_lifespan_state_is_503(dependency):
    with pytest.raises(HTTPException) as caught:
        dependency(request_for(FastAPI()))
    assert caught.value.status_code == 503


def test_sessions_without_redis_is_503_naming_the_setting():
    app = FastAPI()
    app.state.session_store = None
    with pytest.raises(HTTPException, match="REDIS_URL"):
        deps.get_session_store(request_for(app))
