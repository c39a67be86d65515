"""A real redis-server on a free loopback port, for tests that need Redis."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port, wait_for_port


@dataclass
class RedisServer:
    """A running redis-server; `stop()`/`start()` let tests simulate an outage."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    extra_args: Sequence[str] = field(default_factory=tuple)  # e.g. --requirepass, --unixsocket
    listen_port: int | None = None  # where it accepts when not `port` (e.g. --port 0 + TLS)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; run scripts/setup.sh")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--protected-mode",
                "no",
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.listen_port or self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections hang, as with a slow or wedged Redis."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def running_redis(
    workdir: Path, extra_args: Sequence[str] = (), *, listen_port: int | None = None
) -> Iterator[RedisServer]:
    """Start a redis-server for the duration of the block (`extra_args` go on its command line)."""
    server = RedisServer(
        port=free_port(), workdir=workdir, extra_args=extra_args, listen_port=listen_port
    )
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.process.send_signal(signal.SIGCONT)
        server.stop()
