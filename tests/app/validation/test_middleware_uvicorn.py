"""The body limit behind a real HTTP server (uvicorn on loopback), spoken to over a raw socket.

In-process tests prove the middleware stops pulling messages; these prove the same through
uvicorn's real HTTP parsing: a declared 50 MB body is refused before the client sends a byte of
it, and a 50 MB chunked upload gets its 413 after about the limit, with the app never called.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from app.config import Settings
from app.validation.middleware import ValidationMiddleware
from tests.support.ports import free_port

LIMIT = 1_048_576
FIFTY_MB = 50 * 1024 * 1024


class CountingApp:
    """The app behind the middleware; records every call and every body byte it receives."""

    def __init__(self) -> None:
        self.calls = 0
        self.body_bytes = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        while True:
            message = await receive()
            self.body_bytes += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def served() -> Iterator[tuple[int, CountingApp]]:
    app = CountingApp()
    port = free_port()
    config = uvicorn.Config(
        ValidationMiddleware(app, Settings(max_body_bytes=LIMIT)),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield port, app
    server.should_exit = True
    thread.join(timeout=10)


def _read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_declared_50_mb_is_refused_before_the_body_is_sent(
    served: tuple[int, CountingApp],
) -> None:
    port, app = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % FIFTY_MB
        )
        assert _read_status(sock) == 413
    assert app.calls == 0


def test_50_mb_chunked_upload_is_cut_off_near_the_limit(served: tuple[int, CountingApp]) -> None:
    port, app = served
    chunk = b"a" * 65_536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    status = None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < FIFTY_MB:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(frame)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection after answering
        status = _read_status(sock)
    assert status == 413
    assert app.calls == 0
    assert app.body_bytes == 0
    assert sent < FIFTY_MB, sent  # the client was stopped long before the end of its upload
