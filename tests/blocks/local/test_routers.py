"""Both traffic routers on a real stack: the split, read-back, and weights surviving restarts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.support.local_stack import (
    APP,
    RunningStack,
    running_local_stack,
    start_version,
)


@pytest.fixture(scope="module", params=["reload", "lua"])
def router_stack(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_local_stack(tmp_path_factory.mktemp(request.param), router=request.param,
                             loadgen_enabled=False, replicas=1) as stack:
        start_version(stack, "v2", 1)
        yield stack


@pytest.fixture
def stack(router_stack: RunningStack) -> Iterator[RunningStack]:
    yield router_stack
    router_stack.target.set_weights(APP, {"v1": 100})


def split(url: str, n: int) -> Counter[str]:
    with httpx.Client(timeout=5) as client:
        return Counter(client.get(f"{url}/model").headers["x-version"] for _ in range(n))


def test_weights_split_traffic_and_read_back(stack: RunningStack) -> None:
    target = stack.target
    target.set_weights(APP, {"v1": 50, "v2": 50})
    assert target.get_weights(APP) == {"v1": 50, "v2": 50}
    assert stack.target.nginx.state()["router"] == stack.settings.router
    served = split(stack.entry_url, 400)
    assert 140 <= served["v2"] <= 260, served  # binomial(400, .5): 6 sd either side
    target.set_weights(APP, {"v1": 0, "v2": 100})
    assert split(stack.entry_url, 100) == {"v2": 100}
    target.set_weights(APP, {"v1": 100})
    assert split(stack.entry_url, 100) == {"v1": 100}


def test_weights_survive_reloads_and_restarts(stack: RunningStack) -> None:
    target = stack.target
    target.set_weights(APP, {"v1": 80, "v2": 20})
    with target.state_lock.hold():
        target.routing.apply()
    assert target.get_weights(APP) == {"v1": 80, "v2": 20}
    target.nginx.stop()
    with target.state_lock.hold():
        target.routing.start_nginx()
    assert target.get_weights(APP) == {"v1": 80, "v2": 20}
    served = split(stack.entry_url, 200)
    assert 10 <= served["v2"] <= 75, served  # binomial(200, .2): sd 5.7


@pytest.mark.parametrize("router_stack", ["lua"], indirect=True)
def test_lua_admin_refuses_stale_or_unroutable_weights(stack: RunningStack) -> None:
    url = f"http://127.0.0.1:{stack.settings.admin_port}/floodgate/weights"
    generation = stack.target.nginx.state()["generation"]
    stale = httpx.post(url, params={"app": APP, "generation": generation, "weights": "v2:100"})
    assert stale.status_code == 409
    assert "stale generation" in stale.text
    unknown = httpx.post(url, params={"app": APP, "generation": generation + 100,
                                      "weights": "v9:100"})
    assert unknown.status_code == 409
    assert "v9 has no upstream" in unknown.text
    garbled = httpx.post(url, params={"app": APP, "generation": generation + 100,
                                      "weights": "v1=100"})
    assert garbled.status_code == 400
    assert httpx.get(url).status_code == 405
    assert stack.target.get_weights(APP) == {"v1": 100}
