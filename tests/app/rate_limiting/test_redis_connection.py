"""The limiter's own pipelined connection against real redis-servers (asyncio and uvloop).

Replies reach their own callers however many are in flight, cancelled or failed; a frozen, killed
or restarted server costs at most the deadline and the next command reconnects; AUTH, SELECT,
Unix sockets and TLS reach the same server the redis-py client does. Protocol violations come from
a tiny TCP peer of the test's own (a real socket, no patched internals).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.rate_limiting.redis_config import RedisConfig
from app.rate_limiting.redis_connection import PipelinedConnection
from app.rate_limiting.redis_endpoint import RedisEndpoint
from app.rate_limiting.resp import ReplyError, encode_command
from app.redis_client import RedisClient
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer, running_redis

PING = encode_command([b"PING"])


def echo(text: str) -> bytes:
    return encode_command([b"ECHO", text])


def connection_to(url: str, reply_timeout: float = 2.0) -> PipelinedConnection:
    return PipelinedConnection(
        RedisEndpoint.of_client(RedisConfig(url).build()), reply_timeout=reply_timeout
    )


@pytest.fixture
async def connection(redis_server: RedisServer) -> AsyncIterator[PipelinedConnection]:
    conn = connection_to(redis_server.url)
    yield conn
    await conn.aclose()


async def test_pipelined_commands_each_get_their_own_reply(
    connection: PipelinedConnection,
) -> None:
    replies = await asyncio.gather(*(connection.execute(echo(f"m{i}")) for i in range(300)))
    assert replies == [f"m{i}".encode() for i in range(300)]
    assert connection.connections_opened == 1  # one shared connect, then one socket for all


async def test_an_error_reply_fails_only_its_own_command(
    connection: PipelinedConnection,
) -> None:
    await connection.execute(encode_command([b"SET", b"conn-test:text", b"abc"]))
    outcomes = await asyncio.gather(
        connection.execute(echo("before")),
        connection.execute(encode_command([b"INCR", b"conn-test:text"])),
        connection.execute(echo("after")),
        return_exceptions=True,
    )
    assert outcomes[0] == b"before"
    assert isinstance(outcomes[1], ReplyError)
    assert "not an integer" in str(outcomes[1])
    assert outcomes[2] == b"after"
    assert connection.connections_opened == 1  # an error reply is no reason to reconnect


async def test_a_cancelled_caller_leaves_its_reply_to_be_dropped_not_misdelivered(
    connection: PipelinedConnection,
) -> None:
    async def ask(text: str) -> bytes:
        reply: bytes = await connection.execute(echo(text))
        return reply

    await connection.execute(PING)
    tasks = [asyncio.create_task(ask(f"c{i}")) for i in range(60)]
    await asyncio.sleep(0)  # every command is written; none is answered yet
    for task in tasks[::3]:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for index, outcome in enumerate(outcomes):
        if index % 3 == 0:
            assert isinstance(outcome, asyncio.CancelledError)
        else:
            assert outcome == f"c{index}".encode()
    assert await connection.execute(echo("next")) == b"next"
    assert connection.connections_opened == 1


async def test_a_killed_server_fails_what_is_in_flight_and_a_restart_is_reconnected(
    outage_redis: RedisServer,
) -> None:
    connection = connection_to(outage_redis.url)
    assert await connection.execute(PING) == b"PONG"
    outage_redis.pause()
    in_flight = asyncio.ensure_future(connection.execute(echo("lost")))
    await asyncio.sleep(0.05)
    outage_redis.stop()
    with pytest.raises(RedisConnectionError, match="lost"):
        await in_flight
    assert not connection.connected
    with pytest.raises(RedisConnectionError, match="cannot connect"):
        await connection.execute(PING)  # nothing listens: refused, reported as a connection error
    outage_redis.start()
    assert await connection.execute(PING) == b"PONG"
    assert connection.connections_opened == 2
    await connection.aclose()


async def test_unanswered_commands_fail_at_their_deadline_and_the_socket_is_replaced(
    outage_redis: RedisServer,
) -> None:
    connection = connection_to(outage_redis.url, reply_timeout=0.2)
    await connection.execute(PING)
    outage_redis.pause()
    try:
        outcomes = await asyncio.gather(
            *(connection.execute(echo(f"t{i}")) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(outcome, RedisTimeoutError) for outcome in outcomes), outcomes
        assert not connection.connected
    finally:
        outage_redis.resume()
    assert await connection.execute(echo("back")) == b"back"
    assert connection.connections_opened == 2
    await connection.aclose()


async def test_a_connection_closed_by_redis_is_noticed_and_replaced(
    connection: PipelinedConnection, redis_client: RedisClient
) -> None:
    our_id = await connection.execute(encode_command([b"CLIENT", b"ID"]))
    assert await redis_client.client_kill_filter(_id=our_id) == 1
    for _ in range(100):  # the close arrives as EOF, without any command of ours in flight
        if not connection.connected:
            break
        await asyncio.sleep(0.01)
    assert not connection.connected
    assert await connection.execute(echo("again")) == b"again"
    assert connection.connections_opened == 2


async def test_concurrent_first_commands_share_one_connect(redis_server: RedisServer) -> None:
    connection = connection_to(redis_server.url)
    replies = await asyncio.gather(*(connection.execute(echo(str(i))) for i in range(50)))
    assert replies == [str(i).encode() for i in range(50)]
    assert connection.connections_opened == 1
    await connection.aclose()


async def test_closing_fails_what_is_in_flight_and_refuses_later_commands(
    outage_redis: RedisServer,
) -> None:
    connection = connection_to(outage_redis.url)
    await connection.execute(PING)
    outage_redis.pause()
    try:
        in_flight = asyncio.ensure_future(connection.execute(PING))
        await asyncio.sleep(0.01)
        await connection.aclose()
        with pytest.raises(RedisConnectionError, match="closed"):
            await in_flight
        with pytest.raises(RedisConnectionError, match="closed"):
            await connection.execute(PING)
    finally:
        outage_redis.resume()


def test_reply_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="reply_timeout"):
        PipelinedConnection(RedisEndpoint(), reply_timeout=0)


# --- what the connection says after connecting: AUTH, SELECT, CLIENT SETNAME ---------------


@pytest.fixture
def password_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server with a default password and an ACL user ``alice``."""
    args = ["--requirepass", "s3cret", "--user", "alice", "on", ">wonderland", "~*", "&*", "+@all"]
    with running_redis(tmp_path, args) as server:
        yield server


async def test_auth_select_and_client_name_follow_the_url(password_redis: RedisServer) -> None:
    base = f"redis://alice:wonderland@127.0.0.1:{password_redis.port}"
    connection = connection_to(f"{base}/3?client_name=floodgate-limiter")
    await connection.execute(encode_command([b"SET", b"where", b"db3"]))
    assert await connection.execute(encode_command([b"CLIENT", b"GETNAME"])) == (
        b"floodgate-limiter"
    )
    assert await connection.execute(encode_command([b"ACL", b"WHOAMI"])) == b"alice"
    client = RedisConfig(f"{base}/3").build()
    assert await client.get("where") == b"db3"  # the same database redis-py sees
    await client.aclose()
    await connection.aclose()

    default_user = connection_to(f"redis://:s3cret@127.0.0.1:{password_redis.port}/0")
    assert await default_user.execute(encode_command([b"ACL", b"WHOAMI"])) == b"default"
    await default_user.aclose()


async def test_a_wrong_password_is_an_authentication_error(password_redis: RedisServer) -> None:
    connection = connection_to(f"redis://:wrong@127.0.0.1:{password_redis.port}/0")
    with pytest.raises(AuthenticationError, match="refused AUTH"):
        await connection.execute(PING)
    assert not connection.connected
    await connection.aclose()


async def test_a_unix_socket_url_is_honoured(tmp_path: Path) -> None:
    socket_path = tmp_path / "redis.sock"
    with running_redis(tmp_path, ["--unixsocket", str(socket_path)]):
        connection = connection_to(f"unix://{socket_path}?db=2")
        assert connection.endpoint.unix_path == str(socket_path)
        await connection.execute(encode_command([b"SET", b"via", b"unix"]))
        assert await connection.execute(encode_command([b"GET", b"via"])) == b"unix"
        client = RedisConfig(f"unix://{socket_path}?db=2").build()
        assert await client.get("via") == b"unix"
        await client.aclose()
        await connection.aclose()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "redis.crt", directory / "redis.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_a_rediss_url_speaks_tls_with_the_url_s_certificate_options(
    tmp_path: Path,
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    tls_port = free_port()
    args = ["--port", "0", "--tls-port", str(tls_port), "--tls-cert-file", str(cert),
            "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
            "--tls-auth-clients", "no"]
    with running_redis(tmp_path, args, listen_port=tls_port):
        url = f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={cert}"
        connection = connection_to(url)
        assert connection.endpoint.tls is not None
        assert await connection.execute(PING) == b"PONG"
        await connection.aclose()

        untrusted = connection_to(f"rediss://127.0.0.1:{tls_port}/0")  # system CAs only
        with pytest.raises(RedisConnectionError, match="cannot connect"):
            await untrusted.execute(PING)
        await untrusted.aclose()


# --- a peer that breaks the protocol -----------------------------------------------------


class MisbehavingPeer:
    """A TCP server answering every command with `answer` (count connections made to it)."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await reader.read(65536):
                writer.write(self.answer)
                await writer.drain()
        finally:
            writer.close()


@pytest.mark.parametrize(
    ("answer", "error"),
    [(b"?not resp\r\n", "garbage"), (b"+ONE\r\n+TWO\r\n", "nobody asked for")],
    ids=["garbage", "extra-reply"],
)
async def test_a_peer_that_breaks_the_protocol_is_dropped(answer: bytes, error: str) -> None:
    peer = MisbehavingPeer(answer)
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connection = PipelinedConnection(RedisEndpoint(port=port), reply_timeout=2.0)
    if error == "garbage":
        for _ in range(2):  # each command meets a fresh connection, and garbage again
            with pytest.raises(RedisConnectionError, match=error):
                await connection.execute(PING)
    else:
        assert await connection.execute(PING) == b"ONE"  # then TWO arrives for nobody
        for _ in range(100):
            if not connection.connected:
                break
            await asyncio.sleep(0.01)
        assert not connection.connected
        assert await connection.execute(PING) == b"ONE"
    assert connection.connections_opened == 2
    await connection.aclose()
    server.close()
    await server.wait_closed()
