"""Loopback ports for instances and stack components, chosen outside the kernel's ephemeral range.

Asking the kernel for port 0 hands out a port from the ephemeral range — the same range every
outgoing connection takes its local port from. The load generator opens a new connection per
request, so a port found free a moment ago can be someone's local port by the time uvicorn binds
it (seen as an instance that never became ready in a loaded CI run). Ports below the ephemeral
range are only ever taken by an explicit bind.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

from blocks.errors import TargetError

FALLBACK_RANGE = (20_000, 32_000)
ATTEMPTS = 200


def listener_range() -> tuple[int, int]:
    """[low, high) below the ephemeral range (`net.ipv4.ip_local_port_range`)."""
    try:
        start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return FALLBACK_RANGE
    high = min(start, 65_536)
    low = max(1_024, high - 12_000)
    return (low, high) if high - low >= 1_000 else FALLBACK_RANGE


def free_loopback_port(exclude: set[int] | frozenset[int] = frozenset()) -> int:
    """A port on 127.0.0.1 nothing is bound to, not in `exclude`."""
    low, high = listener_range()
    for _ in range(ATTEMPTS):
        port = random.randrange(low, high)
        if port in exclude:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise TargetError(f"no free loopback port in {low}..{high - 1}")
