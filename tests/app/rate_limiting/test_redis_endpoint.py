"""The limiter's connection reads its address from the app's redis-py client, or refuses by name."""

from __future__ import annotations

import ssl

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import ConnectionPool
from redis.credentials import UsernamePasswordCredentialProvider

from app.rate_limiting.redis_config import RedisConfig
from app.rate_limiting.redis_endpoint import RedisEndpoint, UnsupportedRedisOptionError
from app.rate_limiting.resp import encode_command


def endpoint(url: str) -> RedisEndpoint:
    return RedisEndpoint.of_client(RedisConfig(url).build())


def test_a_tcp_url_gives_host_port_db_and_credentials() -> None:
    found = endpoint("redis://alice:pw@cache.internal:6380/4?client_name=limiter")
    assert (found.host, found.port, found.db) == ("cache.internal", 6380, 4)
    assert (found.username, found.password, found.client_name) == ("alice", "pw", "limiter")
    assert found.unix_path is None
    assert found.tls is None
    assert found.connect_timeout == 1.0  # RedisConfig's connect timeout


def test_defaults_need_no_handshake() -> None:
    found = endpoint("redis://localhost")
    assert (found.host, found.port, found.db) == ("localhost", 6379, 0)
    assert found.handshake() == []


def test_the_handshake_authenticates_selects_and_names() -> None:
    assert endpoint("redis://alice:pw@h/4?client_name=x").handshake() == [
        encode_command([b"AUTH", b"alice", b"pw"]),
        encode_command([b"SELECT", b"4"]),
        encode_command([b"CLIENT", b"SETNAME", b"x"]),
    ]
    assert endpoint("redis://:pw@h").handshake() == [encode_command([b"AUTH", b"pw"])]


def test_a_unix_url_gives_the_socket_path() -> None:
    found = endpoint("unix:///run/redis.sock?db=2")
    assert (found.unix_path, found.db) == ("/run/redis.sock", 2)
    assert found.describe() == "redis://unix:/run/redis.sock/2"


def test_a_rediss_url_gives_redis_py_s_tls_context() -> None:
    found = endpoint("rediss://h:6390/0?ssl_cert_reqs=none")
    assert isinstance(found.tls, ssl.SSLContext)
    assert found.tls.verify_mode is ssl.CERT_NONE
    strict = endpoint("rediss://h:6390/0")
    assert strict.tls is not None
    assert strict.tls.verify_mode is ssl.CERT_REQUIRED
    assert strict.describe() == "rediss://h:6390/0"


def test_descriptions_never_show_credentials() -> None:
    assert "pw" not in endpoint("redis://alice:pw@h:1/0").describe()


def test_options_it_cannot_honour_are_refused_by_name() -> None:
    provider = UsernamePasswordCredentialProvider("alice", "pw")
    client = Redis(connection_pool=ConnectionPool(host="h", credential_provider=provider))
    with pytest.raises(UnsupportedRedisOptionError, match="credential_provider"):
        RedisEndpoint.of_client(client)
