"""Small real HTTP peers for tests: a stand-in API with canned answers, and a server that
accepts connections and never answers (the hung dependency every timeout must survive).

Both run in a background thread on a free loopback port and stop when the block ends.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.ports import free_port


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 makes concurrent connects wait ~1 s
    daemon_threads = True


Answer = tuple[int, str]  # (status, JSON body)


@contextmanager
def running_stub_api(
    routes: Mapping[str, Answer | Sequence[Answer]], hits: list[str] | None = None
) -> Iterator[str]:
    """Serve `GET`/`POST path` → (status, JSON body), or a sequence of them given in turn (the
    last one repeats); other paths 404. Each request's path is appended to `hits`. Yields the
    base URL."""
    served: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path = self.path.split("?")[0]
            if hits is not None:
                hits.append(path)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            answers = routes.get(path, (404, '{"detail":"not found"}'))
            if not isinstance(answers[0], int):
                turn = served[path] = served.get(path, -1) + 1
                answers = answers[min(turn, len(answers) - 1)]
            status, body = answers
            payload = str(body).encode()
            self.send_response(int(status))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def running_silent_server() -> Iterator[str]:
    """Accept TCP connections, read nothing, answer nothing. Yields the base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)  # keep it open: the client waits for an answer that never comes

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


class ConcurrencyMeter:
    """Counts requests being served at once and remembers the peak."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.connections: set[tuple[str, int]] = set()

    def enter(self, peer: tuple[str, int]) -> None:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.connections.add(peer)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1


@contextmanager
def running_slow_server(delay_seconds: float) -> Iterator[tuple[str, ConcurrencyMeter]]:
    """Answer every GET after `delay_seconds`, measuring concurrency and distinct connections."""
    meter = ConcurrencyMeter()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so pooled connections are reused

        def do_GET(self) -> None:
            meter.enter(self.client_address)
            try:
                threading.Event().wait(delay_seconds)
            finally:
                # Before answering: once the client has its answer it may open its next
                # connection at once, and counting this one until after the write would see
                # one connection too many for a moment (a race of the meter, not the client).
                meter.leave()
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", meter
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
