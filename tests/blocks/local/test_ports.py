import socket
from pathlib import Path

from blocks.local.ports import free_loopback_port, listener_range


def test_ports_come_from_below_the_ephemeral_range():
    start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    low, high = listener_range()
    assert high <= start
    assert high - low >= 1_000
    for _ in range(50):
        assert low <= free_loopback_port() < high


def test_a_bound_or_excluded_port_is_never_returned():
    low, _ = listener_range()
    held = []
    try:
        for port in range(low, low + 200):
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        taken = {s.getsockname()[1] for s in held}
        excluded = set(range(low + 200, low + 400))
        for _ in range(200):
            port = free_loopback_port(exclude=excluded)
            assert port not in taken
            assert port not in excluded
    finally:
        for sock in held:
            sock.close()
