"""LoadBalancingConfig: a schema-valid Service with ClientIP affinity; an nginx upstream that
`nginx -t` accepts; addresses that could inject nginx config are refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.scaling.load_balancing import BalancingMethod, LoadBalancingConfig, UpstreamServer
from tests.support.k8s_schema import assert_valid_manifest
from tests.support.ports import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_test(
    tmp_path: Path, upstream: str, upstream_name: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "logs").mkdir(exist_ok=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "daemon off;\npid nginx.pid;\nerror_log logs/error.log;\nevents {}\nhttp {\n"
        "  access_log off;\n"
        f"{upstream}"
        f"  server {{\n    listen 127.0.0.1:{free_port()};\n"
        f"    location / {{ proxy_pass http://{upstream_name}; proxy_http_version 1.1;\n"
        '      proxy_set_header Connection ""; }\n  }\n}\n'
    )
    return subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)],
                          capture_output=True, text=True, timeout=30, check=False)


def test_service_has_client_ip_affinity_for_three_hours():
    service = LoadBalancingConfig("fraud-api", port=80, target_port=8000).service_manifest(
        {"app": "fraud-api"}, namespace="payments")
    assert_valid_manifest(service)
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert service["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert service["spec"]["ports"] == [{"name": "http", "protocol": "TCP", "port": 80,
                                         "targetPort": 8000}]


def test_upstream_uses_least_conn_and_passes_nginx_t(tmp_path):
    config = LoadBalancingConfig("fraud-api")
    upstream = config.nginx_upstream(
        [UpstreamServer("127.0.0.1", 8001, weight=9), UpstreamServer("127.0.0.1", 8002),
         UpstreamServer("::1", 8003), UpstreamServer("fraud-v2.internal", 8004)],
        upstream_name="fraud_api",
    )
    assert upstream.splitlines()[:2] == ["upstream fraud_api {", "    least_conn;"]
    assert "server 127.0.0.1:8001 weight=9 max_fails=3 fail_timeout=10s;" in upstream
    assert "server [::1]:8003 weight=1" in upstream
    # nginx resolves host names at -t time; keep the check to addresses it can resolve offline
    offline = config.nginx_upstream(
        [UpstreamServer("127.0.0.1", 8001, weight=9), UpstreamServer("::1", 8003),
         UpstreamServer("localhost", 8005)], upstream_name="fraud_api")
    result = nginx_test(tmp_path, offline, "fraud_api")
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize("method", list(BalancingMethod))
def test_every_method_passes_nginx_t(tmp_path, method):
    config = LoadBalancingConfig("fraud-api", method=method, keepalive_connections=0)
    upstream = config.nginx_upstream([UpstreamServer("127.0.0.1", 8001)])
    result = nginx_test(tmp_path, upstream, "fraud-api")
    assert result.returncode == 0, result.stderr
    assert ("least_conn;" in upstream) is (method is BalancingMethod.LEAST_CONN)


def test_nginx_t_does_fail_on_a_broken_upstream(tmp_path):
    """The check above can fail: an unknown directive in the upstream is an nginx error."""
    upstream = LoadBalancingConfig("fraud-api").nginx_upstream([UpstreamServer("127.0.0.1", 1)])
    broken = upstream.replace("least_conn;", "least_connections;")
    assert nginx_test(tmp_path, broken, "fraud-api").returncode != 0


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1; include /etc/passwd", "host name", "evil}", "a" * 300, "", "-lead.example"],
)
def test_hosts_that_could_inject_config_are_refused(host):
    with pytest.raises(ValueError, match="host"):
        UpstreamServer(host, 8000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"port": 0}, "port"), ({"weight": 0}, "weight"), ({"fail_timeout_seconds": 0}, "fail")],
)
def test_bad_server_numbers_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UpstreamServer("127.0.0.1", **{"port": 8000, **kwargs})


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="name must be a DNS label"):
        LoadBalancingConfig("Fraud API")
    with pytest.raises(ValueError, match="session_affinity_timeout_seconds"):
        LoadBalancingConfig("fraud-api", session_affinity_timeout_seconds=90_000)
    with pytest.raises(ValueError, match="upstream name"):
        LoadBalancingConfig("fraud-api").nginx_upstream([UpstreamServer("127.0.0.1", 1)],
                                                       upstream_name="x { }")
    with pytest.raises(ValueError, match="at least one server"):
        LoadBalancingConfig("fraud-api").nginx_upstream([])
