"""Traffic routers: how nginx picks a version per request, and how weights change.

Both render a complete config carrying the weights (so a restart serves them); they differ in
how a weight change takes effect:

* `ReloadRouter` — `split_clients "$request_id"` over one upstream per version; a change is a
  graceful reload. nginx's master waits 100 ms after starting new workers before retiring the old
  ones, so old workers keep taking requests: measured switch 115-136 ms median (90-180 ms) at
  150-300 req/s (bench/switch_time.py) — over the 100 ms goal.
* `LuaRouter` (default) — `set_by_lua_block` picks the upstream from weights in a
  `lua_shared_dict`; a loopback-only admin location changes them at run time, and every worker
  sees the change on its next request: measured switch 11-25 ms median (1-42 ms), `set_weights`
  returning after 32-48 ms (it also writes the config for restarts). Needs Debian's
  libnginx-mod-http-lua. Instance or preview changes still reload (0 failed requests either way).

Pick one with `LocalSettings.router`; `make_router` lists the valid names for a wrong one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from blocks.errors import ConfigurationError
from blocks.local.nginx import NginxServer
from blocks.local.nginx_config import (
    STATE_LOCATION,
    WEIGHTS_LOCATION,
    directive_block,
    nginx_string,
)
from blocks.local.routing_table import AppRoutes, RoutingTable, upstream_name

LUA_DIR = Path(__file__).parent  # floodgate_router.lua ships next to this module
LUA_MODULES = (
    Path("/usr/lib/nginx/modules/ndk_http_module.so"),
    Path("/usr/lib/nginx/modules/ngx_http_lua_module.so"),
)


class TrafficRouter(Protocol):
    name: str

    def main_directives(self) -> list[str]: ...
    def http_directives(self, table: RoutingTable) -> list[str]: ...
    def entry_location(self, route: AppRoutes) -> list[str]: ...
    def admin_locations(self, table: RoutingTable) -> list[str]: ...

    def switch_weights(self, nginx: NginxServer, route: AppRoutes, generation: int) -> bool:
        """Serve `route.weights` now without a reload; False if only a reload can."""
        ...


def weights_spec(weights: Mapping[str, int]) -> str:
    """`{"v1": 95, "v2": 5}` → `"v1:95,v2:5"` (the form the Lua router stores)."""
    return ",".join(f"{v}:{w}" for v, w in sorted(weights.items()))


def _no_route(route: AppRoutes) -> str:
    return f"return 503 'no version of {route.app} is routed\\n';"


class ReloadRouter:
    name = "reload"

    def main_directives(self) -> list[str]:
        return []

    def http_directives(self, table: RoutingTable) -> list[str]:
        lines: list[str] = []
        for route in table.apps:
            positive = [(v, w) for v, w in sorted(route.served_weights().items()) if w > 0]
            if not positive:
                continue
            *shares, (last, _) = positive
            body = [f"{w}% {upstream_name(route.app, v)};" for v, w in shares]
            body.append(f"* {upstream_name(route.app, last)};")
            lines += directive_block(f'split_clients "$request_id" {route.pool_variable}', body)
        return lines

    def entry_location(self, route: AppRoutes) -> list[str]:
        if route.served_weights():
            return []  # split_clients sets the pool variable
        return [f'set {route.pool_variable} "";', _no_route(route)]

    def admin_locations(self, table: RoutingTable) -> list[str]:
        state = json.dumps(table.state_json(self.name), separators=(",", ":"), sort_keys=True)
        return directive_block(f"location = {STATE_LOCATION}", [
            "default_type application/json;",
            "add_header Cache-Control no-store;",
            f"return 200 {nginx_string(state)};",
        ])

    def switch_weights(self, nginx: NginxServer, route: AppRoutes, generation: int) -> bool:
        return False


class LuaRouter:
    name = "lua"

    def __init__(self) -> None:
        missing = [str(p) for p in LUA_MODULES if not p.exists()]
        if missing:
            raise ConfigurationError(
                f"router 'lua' needs libnginx-mod-http-lua ({', '.join(missing)} missing); "
                "run scripts/setup.sh or use router='reload'"
            )

    def main_directives(self) -> list[str]:
        return [f"load_module {path};" for path in LUA_MODULES]

    def http_directives(self, table: RoutingTable) -> list[str]:
        entries = []
        for route in table.apps:
            static = json.dumps(route.static_state(), separators=(",", ":"), sort_keys=True)
            versions = ", ".join(f'["{v}"] = true' for v in sorted(route.upstreams))
            entries.append(
                f'["{route.app}"] = {{weights = "{weights_spec(route.served_weights())}", '
                f"versions = {{{versions}}}, static = [==[{static[1:-1]}]==]}}"
            )
        config = "{" + ", ".join(entries) + "}"
        return [
            "lua_shared_dict floodgate 1m;",
            f'lua_package_path "{LUA_DIR}/?.lua;;";',
            *directive_block("init_by_lua_block", [
                f'require("floodgate_router").configure({table.generation}, {config})',
            ]),
            *directive_block("init_worker_by_lua_block", ['require("floodgate_router").seed()']),
        ]

    def entry_location(self, route: AppRoutes) -> list[str]:
        variable = route.pool_variable
        return [
            *directive_block(f"set_by_lua_block {variable}",
                    [f'return require("floodgate_router").pick("{route.app}")']),
            *directive_block(f'if ({variable} = "")', [_no_route(route)]),
        ]

    def admin_locations(self, table: RoutingTable) -> list[str]:
        return [
            *directive_block(f"location = {STATE_LOCATION}",
                    ['content_by_lua_block { require("floodgate_router").state() }']),
            *directive_block(f"location = {WEIGHTS_LOCATION}", [
                "allow 127.0.0.1;",
                "deny all;",
                'content_by_lua_block { require("floodgate_router").set_weights() }',
            ]),
        ]

    def switch_weights(self, nginx: NginxServer, route: AppRoutes, generation: int) -> bool:
        served = nginx.state().get("apps", {}).get(route.app)
        if served is None:
            return False  # the app is not in the loaded config yet: only a reload adds it
        loaded = set(served.get("upstreams", {}))
        if any(w > 0 and v not in loaded for v, w in route.weights.items()):
            return False  # a weighted version's upstream is not loaded yet
        nginx.post_weights(route.app, generation, weights_spec(route.served_weights()))
        return True


ROUTERS: dict[str, type[ReloadRouter] | type[LuaRouter]] = {
    "lua": LuaRouter,
    "reload": ReloadRouter,
}


def make_router(name: str) -> TrafficRouter:
    try:
        factory = ROUTERS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown router {name!r}; valid: {', '.join(sorted(ROUTERS))}"
        ) from None
    return factory()
