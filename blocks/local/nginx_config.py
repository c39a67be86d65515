"""Render a `RoutingTable` into a complete nginx.conf (a pure function, easy to test).

Per app: one upstream per version (least_conn over its instances, keepalive to them), one server
on the entry port whose pool variable is chosen by the router (split_clients or Lua), and one on
the preview port pointing at the preview version (else stable). Clients get no keep-alive (see
`render_config`): that is what makes a reload drop no request. An admin server on loopback
reports the loaded state as JSON. Responses pass through untouched, so the app's `X-Version`
header reaches the client.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from blocks.local.routing_table import AppRoutes, RoutingTable, upstream_name

STATE_LOCATION = "/floodgate/state"
WEIGHTS_LOCATION = "/floodgate/weights"

PROXY_DIRECTIVES = (
    "proxy_http_version 1.1;",
    'proxy_set_header Connection "";',
    "proxy_set_header Host $http_host;",
    "proxy_set_header X-Request-Id $request_id;",
    "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "proxy_next_upstream error timeout;",
    "proxy_next_upstream_tries 3;",
    "proxy_connect_timeout 2s;",
    "proxy_read_timeout 60s;",
)


class ConfigRouter(Protocol):
    """The part of a traffic router that shapes the config (see `routers`)."""

    name: str

    def main_directives(self) -> list[str]: ...
    def http_directives(self, table: RoutingTable) -> list[str]: ...
    def entry_location(self, route: AppRoutes) -> list[str]: ...
    def admin_locations(self, table: RoutingTable) -> list[str]: ...


@dataclass(frozen=True)
class NginxPaths:
    prefix: Path  # nginx -p: pid file and temp dirs live here
    error_log: Path


def directive_block(header: str, body: Iterable[str], indent: int = 0) -> list[str]:
    pad = "    " * indent
    return [f"{pad}{header} {{", *(f"{pad}    {line}" for line in body), f"{pad}}}"]


def _upstreams(route: AppRoutes) -> list[str]:
    lines: list[str] = []
    for version, ports in sorted(route.upstreams.items()):
        servers = [f"server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports]
        lines += directive_block(f"upstream {upstream_name(route.app, version)}",
                        ["least_conn;", *servers, "keepalive 16;",
                         # below the app servers' own idle timeout (uvicorn: 5 s), so nginx
                         # never reuses a connection the app is closing (a POST would 502)
                         "keepalive_timeout 4s;"])
    return lines


def _entry_server(route: AppRoutes, router: ConfigRouter) -> list[str]:
    location = [*router.entry_location(route), f"proxy_pass http://{route.pool_variable};",
                *PROXY_DIRECTIVES]
    return directive_block("server", [f"listen 127.0.0.1:{route.entry_port};",
                             *directive_block("location /", location)])


def _preview_server(route: AppRoutes) -> list[str]:
    target = route.preview_target()
    if target is None:
        body = [f"return 503 'no version of {route.app} is running\\n';"]
    else:
        body = [f"proxy_pass http://{upstream_name(route.app, target)};", *PROXY_DIRECTIVES]
    return directive_block("server", [f"listen 127.0.0.1:{route.preview_port};",
                             *directive_block("location /", body)])


def _admin_server(table: RoutingTable, router: ConfigRouter) -> list[str]:
    body = [
        f"listen 127.0.0.1:{table.admin_port};",
        *router.admin_locations(table),
        *directive_block("location = /nginx_status", ["stub_status;"]),
        *directive_block("location /", ["return 404;"]),
    ]
    return directive_block("server", body)


def render_config(table: RoutingTable, router: ConfigRouter, paths: NginxPaths,
                  workers: int = 1) -> str:
    """The whole nginx.conf for `table`."""
    http: list[str] = [
        "access_log off;",
        "server_tokens off;",
        # No client keep-alive: a reload retires workers, which close their idle keep-alive
        # connections — a client reusing one at that instant loses its request. With a new
        # connection per request (cheap on loopback) reloads drop nothing (tests/…/test_nginx).
        "keepalive_timeout 0;",
        "client_body_temp_path tmp/body;",
        "proxy_temp_path tmp/proxy;",
        "fastcgi_temp_path tmp/fastcgi;",
        "uwsgi_temp_path tmp/uwsgi;",
        "scgi_temp_path tmp/scgi;",
        "default_type application/octet-stream;",
        *router.http_directives(table),
    ]
    for route in table.apps:
        http += _upstreams(route)
    for route in table.apps:
        http += _entry_server(route, router)
        http += _preview_server(route)
    http += _admin_server(table, router)
    main = [
        f"# floodgate generation {table.generation}, router {router.name}; generated, do not edit",
        *router.main_directives(),
        "daemon off;",
        "master_process on;",
        f"worker_processes {workers};",
        f"pid {paths.prefix / 'nginx.pid'};",
        f"error_log {paths.error_log} notice;",
        # Workers of a root master would run as `nobody` and could not use the state dir.
        *(["user root;"] if os.geteuid() == 0 else []),
        "worker_shutdown_timeout 30s;",
        *directive_block("events", ["worker_connections 4096;"]),
        *directive_block("http", http),
    ]
    return "\n".join(main) + "\n"


def nginx_string(text: str) -> str:
    """`text` as a single-quoted nginx string; refuses characters nginx would interpret."""
    if any(ch in text for ch in "'\\$"):
        raise ValueError(f"refusing to embed {text!r} in nginx.conf")
    return f"'{text}'"
