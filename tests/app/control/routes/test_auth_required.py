"""Every operator route refuses requests without a valid bearer token, and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from app.control.main import create_control_app
from tests.app.control.conftest import TOKEN, control_settings, save_rollout

pytestmark = pytest.mark.integration

ROUTES = [
    ("POST", "/rollouts"),
    ("GET", "/rollouts/{app}"),
    ("GET", "/rollouts/{app}/history"),
    ("POST", "/rollouts/{app}/promote"),
    ("POST", "/rollouts/{app}/abort"),
    ("POST", "/rollouts/{app}/rollback"),
    ("GET", "/apps"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    ("authorization", "reason"),
    [(None, "missing bearer token"), ("Bearer wrong-token-0123456789", "invalid bearer token"),
     (f"Basic {TOKEN}", "missing bearer token"), (f"Bearer {TOKEN}x", "invalid bearer token")],
)
async def test_no_valid_token_is_401_and_nothing_changes(
    control, app_name, method, path, authorization, reason
):
    save_rollout(control.target, app_name, "v2", "Paused")
    headers = {"Authorization": authorization} if authorization else {}
    response = await control.client.request(
        method, path.format(app=app_name), headers=headers,
        json={"app": app_name, "version": "v3"} if method == "POST" else None,
    )  # fmt: skip
    assert response.status_code == 401
    assert response.json()["detail"].startswith(reason)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert control.target.take_commands(app_name) == []


async def test_no_tokens_configured_refuses_with_503(start_control, memory_target, app_name):
    control = await start_control(control_settings(control_api_tokens=[]), memory_target)
    response = await control.get(f"/rollouts/{app_name}")
    assert response.status_code == 503
    assert "CONTROL_API_TOKENS" in response.json()["detail"]


async def test_a_second_token_works_for_rotation(start_control, memory_target, app_name):
    settings = control_settings(control_api_tokens=[TOKEN, "next-token-0123456789abc"])
    control = await start_control(settings, memory_target)
    response = await control.client.get(
        "/apps", headers={"Authorization": "Bearer next-token-0123456789abc"}
    )
    assert response.status_code == 200


async def test_the_token_is_checked_before_the_target_is_touched():
    """A target that cannot be built (503) is not revealed to an anonymous caller."""
    app = create_control_app(control_settings(control_target="floodgate-nomad-target/x"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
            assert (await client.get("/apps")).status_code == 401
            authorised = await client.get("/apps", headers={"Authorization": f"Bearer {TOKEN}"})
    assert authorised.status_code == 503
    assert "unknown target type 'floodgate-nomad-target'" in authorised.json()["detail"]
