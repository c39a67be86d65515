"""`PipelinedConnection`: the rate limiter's own long-lived Redis connection, commands pipelined.

Why not redis-py's asyncio client on the hot path: it checks a connection out of its pool, wraps
each command in retry and timeout machinery and reads through a StreamReader — on this machine
that was ~100 µs of client work per check, several times what Redis needs. Here a command is one
`transport.write` of pre-encoded bytes and one future that the read callback resolves. Redis
answers in order, so any number of commands can be in flight on the one socket, and nobody waits
for a pool.

What it guarantees:

* A command gets its own reply or an exception, never another command's reply: replies are
  matched by order, and a caller that stops waiting (cancelled) keeps its place in the queue, so
  its reply is read and dropped. A command that was written is never re-sent: one that may have
  run is not retried (a retried EVALSHA could charge a bucket twice).
* Deadline: each command is answered or failed within `reply_timeout` seconds of `started`
  (default: when it was sent), connecting included. An unanswered command past its deadline
  aborts the connection and fails everything in flight with a timeout — replies are ordered, so
  everything behind it is late too — and the next command reconnects. One timer per connection,
  armed for the earliest deadline, not one per command.
* A lost connection fails every command in flight; the next command reconnects once for all
  waiters (a shared connect, bounded by the endpoint's connect timeout and each caller's
  deadline).
* Nothing blocks the event loop: writes go to the transport's buffer, reads arrive as callbacks.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from typing import Any, cast

from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.rate_limiting.redis_endpoint import RedisEndpoint
from app.rate_limiting.resp import ProtocolError, ReplyError, ReplyReader

_InFlight = tuple["asyncio.Future[Any]", float]  # (the caller's future, its deadline)
_READ_BUFFER_BYTES = 64 * 1024  # a reply may be longer: the reader keeps partial replies


class _RespProtocol(asyncio.BufferedProtocol):
    """One socket: writes commands, matches replies to the futures waiting for them in order.

    A `BufferedProtocol`: the transport reads into our one preallocated buffer. A plain
    `Protocol` gets a fresh bytes object per read, which asyncio's own loop allocates at 256 KiB
    and shrinks — on this machine mmap, mremap and munmap for every reply, half a check's CPU.
    """

    def __init__(self, owner: PipelinedConnection, loop: asyncio.AbstractEventLoop) -> None:
        self.owner = owner
        self.loop = loop
        self.reply_timeout = owner.reply_timeout
        self.transport: asyncio.Transport | None = None
        self.in_flight: deque[_InFlight] = deque()
        self._reader = ReplyReader()
        self._buffer = memoryview(bytearray(_READ_BUFFER_BYTES))
        self._watchdog: asyncio.TimerHandle | None = None
        self._watchdog_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports do not subclass asyncio.Transport, so no isinstance check)
        self.transport = cast(asyncio.Transport, transport)

    def send(self, payload: bytes, deadline: float | None) -> asyncio.Future[Any]:
        """Write one encoded command; the future gets its reply (or its error) by `deadline`
        (loop time; default: `reply_timeout` from now)."""
        future: asyncio.Future[Any] = self.loop.create_future()
        if deadline is None:
            deadline = self.loop.time() + self.reply_timeout
        self.in_flight.append((future, deadline))
        if self._watchdog is None or deadline < self._watchdog_at:
            self._arm(deadline)
        assert self.transport is not None
        self.transport.write(payload)
        return future

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        try:
            replies = self._reader.feed(bytes(self._buffer[:nbytes]))
        except ProtocolError as error:
            self.owner.abort(self, RedisConnectionError(f"Redis sent garbage: {error}"))
            return
        in_flight = self.in_flight
        for reply in replies:
            if not in_flight:
                self.owner.abort(self, RedisConnectionError("Redis sent a reply nobody asked for"))
                return
            future = in_flight.popleft()[0]
            if future.done():  # its caller stopped waiting: drop the reply
                continue
            if isinstance(reply, ReplyError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def eof_received(self) -> bool | None:
        # Redis closed its side (shutdown, CLIENT KILL, idle timeout): fail what is in flight now
        # rather than writing into a closing transport until the deadline.
        self.owner.abort(self, RedisConnectionError("Redis closed the connection"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f": {exc}" if exc else ""
        self.owner.abort(self, RedisConnectionError(f"connection to Redis lost{reason}"))

    def _arm(self, when: float) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog_at = when
        self._watchdog = self.loop.call_at(when, self._check_deadlines)

    def _check_deadlines(self) -> None:
        """Abort if a command is past its deadline; else sleep until the earliest one."""
        self._watchdog = None
        if not self.in_flight:
            return
        earliest = min(deadline for _, deadline in self.in_flight)
        if self.loop.time() >= earliest:
            self.owner.abort(self, RedisTimeoutError(
                f"Redis did not answer within {self.reply_timeout:g} s"
            ))
            return
        self._arm(earliest)

    def fail_all(self, error: Exception) -> None:
        """Fail every command in flight with `error` and stop watching deadlines."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        in_flight, self.in_flight = self.in_flight, deque()
        for future, _ in in_flight:
            if not future.done():
                future.set_exception(error)


class PipelinedConnection:
    """One Redis connection for the limiter's hot path; opens lazily, reopens after a failure."""

    def __init__(self, endpoint: RedisEndpoint, *, reply_timeout: float = 1.0) -> None:
        if reply_timeout <= 0:
            raise ValueError(f"reply_timeout must be positive, got {reply_timeout}")
        self.endpoint = endpoint
        self.reply_timeout = reply_timeout
        self.connections_opened = 0  # observable: proof of reconnects (tests, health)
        self._protocol: _RespProtocol | None = None
        self._connecting: asyncio.Task[_RespProtocol] | None = None
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._protocol is not None

    def clock(self) -> float:
        """The event loop's clock: what `started` is measured on."""
        return asyncio.get_running_loop().time()

    def execute(self, payload: bytes, started: float | None = None) -> Awaitable[Any]:
        """Send one RESP-encoded command; awaiting the result gives its reply.

        Raises `ReplyError` for an error reply, a redis-py `ConnectionError` or timeout (builtin
        `TimeoutError` while connecting) when the connection fails; within `reply_timeout` of
        `started` either way. Connected, it writes at once and returns the reply's future (no
        coroutine frame on the hot path); otherwise a coroutine that connects first.
        """
        protocol = self._protocol
        if protocol is not None:
            return protocol.send(payload, None if started is None else started + self.reply_timeout)
        return self._execute_after_connect(payload, started)

    async def _execute_after_connect(self, payload: bytes, started: float | None) -> Any:
        if started is None:
            started = self.clock()
        protocol = await self._connected(started)
        return await protocol.send(payload, started + self.reply_timeout)

    async def _connected(self, started: float) -> _RespProtocol:
        """Wait for the shared connect, at most until this caller's deadline."""
        if self._closed:
            raise RedisConnectionError("the rate limiter's Redis connection is closed")
        task = self._connecting
        if task is None:
            task = self._connecting = asyncio.get_running_loop().create_task(self._open())
            task.add_done_callback(self._connect_done)
        remaining = started + self.reply_timeout - self.clock()
        async with asyncio.timeout(max(remaining, 0.0)):
            return await asyncio.shield(task)

    def _connect_done(self, task: asyncio.Task[_RespProtocol]) -> None:
        self._connecting = None
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have given up already

    async def _open(self) -> _RespProtocol:
        loop = asyncio.get_running_loop()
        protocol = _RespProtocol(self, loop)
        where = self.endpoint.describe()
        try:
            async with asyncio.timeout(self.endpoint.connect_timeout):
                await self.endpoint.open(lambda: protocol)
                await self._handshake(protocol)
        except BaseException as error:
            if protocol.transport is not None:
                protocol.transport.abort()
            if isinstance(error, TimeoutError):
                raise RedisTimeoutError(
                    f"connecting to {where} took over {self.endpoint.connect_timeout:g} s"
                ) from error
            if isinstance(error, OSError):  # refused, unreachable, TLS handshake failed ...
                raise RedisConnectionError(f"cannot connect to {where}: {error}") from error
            raise
        if self._closed:
            assert protocol.transport is not None
            protocol.transport.abort()
            raise RedisConnectionError("the rate limiter's Redis connection is closed")
        self._protocol = protocol
        self.connections_opened += 1
        return protocol

    async def _handshake(self, protocol: _RespProtocol) -> None:
        """AUTH / SELECT / SETNAME, pipelined, due with the connect (not the reply deadline)."""
        commands = self.endpoint.handshake()
        due = protocol.loop.time() + self.endpoint.connect_timeout
        replies = [protocol.send(command, due) for command in commands]
        try:
            for command, reply in zip(commands, replies, strict=True):
                try:
                    await reply
                except ReplyError as error:
                    name = command.split(b"\r\n")[2].decode()
                    failure = AuthenticationError if name == "AUTH" else RedisConnectionError
                    where = self.endpoint.describe()
                    raise failure(f"Redis refused {name} on {where}: {error}") from None
        finally:
            for reply in replies:  # after a failure nobody reads the rest: do not leave them
                reply.cancel()     # to fail unretrieved when the socket is dropped

    def abort(self, protocol: _RespProtocol, error: Exception) -> None:
        """Drop `protocol`'s connection: its commands fail with `error`, the next reconnects."""
        if self._protocol is protocol:
            self._protocol = None
        protocol.fail_all(error)
        if protocol.transport is not None and not protocol.transport.is_closing():
            protocol.transport.abort()

    async def aclose(self) -> None:
        """Close the connection; commands in flight fail, later ones are refused."""
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if self._protocol is not None:
            self.abort(self._protocol, RedisConnectionError("connection closed by the limiter"))
