"""Rendered nginx.conf for both routers, checked by the real `nginx -t`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from blocks.errors import ConfigurationError
from blocks.local.nginx_config import NginxPaths, nginx_string, render_config
from blocks.local.routers import LuaRouter, ReloadRouter, TrafficRouter, make_router
from blocks.local.routing_table import AppRoutes, RoutingTable

TABLE = RoutingTable(
    generation=3,
    admin_port=18089,
    apps=(
        AppRoutes(app="fraud-api", entry_port=18080, preview_port=18081,
                  upstreams={"v1": (40001, 40002), "v2": (40003,)},
                  weights={"v1": 95, "v2": 5}, preview="v2", stable="v1"),
        AppRoutes(app="payments", entry_port=18082, preview_port=18083, upstreams={},
                  weights={}),
    ),
)


def render(router: TrafficRouter, tmp_path: Path) -> Path:
    paths = NginxPaths(prefix=tmp_path, error_log=tmp_path / "error.log")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_config(TABLE, router, paths))
    return conf


@pytest.mark.parametrize("router", [ReloadRouter(), LuaRouter()], ids=["reload", "lua"])
def test_nginx_accepts_the_rendered_config(router: TrafficRouter, tmp_path: Path) -> None:
    conf = render(router, tmp_path)
    result = subprocess.run(["/usr/sbin/nginx", "-t", "-p", f"{tmp_path}/", "-c", str(conf)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_reload_router_splits_by_request_id(tmp_path: Path) -> None:
    text = render(ReloadRouter(), tmp_path).read_text()
    assert 'split_clients "$request_id" $fg_fraud_api_pool' in text
    assert "95% fg_fraud-api__v1;" in text
    assert "* fg_fraud-api__v2;" in text
    assert "server 127.0.0.1:40003 max_fails=1 fail_timeout=2s;" in text
    assert "proxy_next_upstream error timeout;" in text
    assert "keepalive 16;" in text
    # an app with no routed version answers 503 instead of proxying nowhere
    assert "return 503 'no version of payments is routed\\n';" in text


def test_lua_router_carries_weights_for_restarts(tmp_path: Path) -> None:
    text = render(LuaRouter(), tmp_path).read_text()
    assert 'configure(3, {["fraud-api"] = {weights = "v1:95,v2:5"' in text
    assert "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;" in text
    assert "allow 127.0.0.1;" in text


def test_preview_server_points_at_the_preview_version(tmp_path: Path) -> None:
    text = render(ReloadRouter(), tmp_path).read_text()
    preview_block = text.split("listen 127.0.0.1:18081;")[1].split("server {")[0]
    assert "proxy_pass http://fg_fraud-api__v2;" in preview_block


def test_unknown_router_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError, match="valid: lua, reload"):
        make_router("haproxy")


def test_strings_nginx_would_interpret_are_refused() -> None:
    assert nginx_string('{"a":1}') == "'{\"a\":1}'"
    for bad in ("it's", "a\\b", "$host"):
        with pytest.raises(ValueError, match="refusing"):
            nginx_string(bad)
