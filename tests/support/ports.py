"""Free loopback ports for services started by tests."""

from __future__ import annotations

import socket
import time

from blocks.local.ports import free_loopback_port


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is bound to, below the ephemeral range (so an
    outgoing connection cannot take it before the server under test binds it)."""
    return free_loopback_port()


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 20.0) -> None:
    """Block until something accepts TCP connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")
