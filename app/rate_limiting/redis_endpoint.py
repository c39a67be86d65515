"""`RedisEndpoint`: where and how to open the limiter's own Redis connection.

Read from the redis-py client the app already configured (REDIS_URL through `RedisConfig`), so
the limiter's connection goes to the same server, database and user as everything else: TCP or a
Unix socket, TLS with redis-py's own context (``rediss://`` and its ``ssl_*`` options), AUTH
(user and password) and SELECT. Options this connection cannot honour are refused by name instead
of being ignored.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection

from app.rate_limiting.resp import encode_command
from app.redis_client import RedisClient

# Connection options that only matter to redis-py's own connections (their timeouts, retries,
# health checks, RESP version, encoding): the limiter's connection has its own deadline and
# speaks RESP2 bytes.
_REDIS_PY_ONLY = frozenset({
    "socket_timeout", "socket_keepalive", "socket_keepalive_options", "socket_read_size",
    "socket_type", "retry", "retry_on_timeout", "retry_on_error", "health_check_interval",
    "encoding", "encoding_errors", "decode_responses", "parser_class", "protocol", "lib_name",
    "lib_version", "redis_connect_func", "event_dispatcher",
})
_SSL_OPTIONS_PREFIX = "ssl_"


class UnsupportedRedisOptionError(ValueError):
    """The Redis client uses an option the limiter's own connection cannot honour."""


@dataclass(frozen=True, slots=True)
class RedisEndpoint:
    """A Redis server address plus what to say after connecting (AUTH, SELECT, SETNAME)."""

    host: str = "localhost"
    port: int = 6379
    unix_path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    client_name: str | None = None
    tls: ssl.SSLContext | None = None
    connect_timeout: float = 1.0

    @classmethod
    def of_client(cls, client: RedisClient) -> RedisEndpoint:
        """The endpoint a redis-py asyncio client's pool connects to."""
        pool = client.connection_pool
        kwargs: dict[str, Any] = dict(pool.connection_kwargs)
        kind = pool.connection_class
        tls = None
        if issubclass(kind, SSLConnection):
            tls = kind(**kwargs).ssl_context.get()  # redis-py's reading of the ssl_* options
        elif not issubclass(kind, Connection | UnixDomainSocketConnection):
            raise UnsupportedRedisOptionError(
                f"connection class {kind.__name__} (use a redis://, rediss:// or unix:// URL)"
            )
        known = {"host", "port", "path", "db", "username", "password", "client_name",
                 "socket_connect_timeout"}
        unsupported = sorted(
            name for name, value in kwargs.items()
            if value is not None and name not in known and name not in _REDIS_PY_ONLY
            and not (tls is not None and name.startswith(_SSL_OPTIONS_PREFIX))
        )
        if unsupported:
            raise UnsupportedRedisOptionError(
                f"the rate limiter's Redis connection does not support {', '.join(unsupported)}"
            )
        return cls(
            host=str(kwargs.get("host") or "localhost"),
            port=int(kwargs.get("port") or 6379),
            unix_path=kwargs.get("path") if issubclass(kind, UnixDomainSocketConnection) else None,
            db=int(kwargs.get("db") or 0),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            client_name=kwargs.get("client_name"),
            tls=tls,
            connect_timeout=float(kwargs.get("socket_connect_timeout") or 1.0),
        )

    def describe(self) -> str:
        """Where it points, without credentials (for errors and logs)."""
        where = f"unix:{self.unix_path}" if self.unix_path else f"{self.host}:{self.port}"
        return f"{'rediss' if self.tls else 'redis'}://{where}/{self.db}"

    def handshake(self) -> list[bytes]:
        """The commands that make a fresh connection ours: AUTH, SELECT, CLIENT SETNAME."""
        commands: list[bytes] = []
        if self.password is not None:
            credentials = [self.username, self.password] if self.username else [self.password]
            commands.append(encode_command([b"AUTH", *credentials]))
        if self.db:
            commands.append(encode_command([b"SELECT", self.db]))
        if self.client_name:
            commands.append(encode_command([b"CLIENT", b"SETNAME", self.client_name]))
        return commands

    async def open(
        self, factory: Callable[[], asyncio.BaseProtocol]
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        """Open the socket (TCP, TLS or Unix) with `factory`'s protocol on it."""
        loop = asyncio.get_running_loop()
        if self.unix_path is not None:
            return await loop.create_unix_connection(factory, self.unix_path)
        return await loop.create_connection(factory, self.host, self.port, ssl=self.tls)
