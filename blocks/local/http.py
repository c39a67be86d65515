"""One shared HTTP client per process for loopback calls (admin endpoint, health checks).

Building an `httpx.Client` costs 20-40 ms here (it sets up TLS), which would dominate a
run-time weight switch that otherwise takes a few milliseconds; `httpx.get()` builds one per
call. The client ignores proxy variables from the environment: every URL is on 127.0.0.1.
"""

from __future__ import annotations

import threading

import httpx

_client: httpx.Client | None = None
_lock = threading.Lock()


def loopback_client() -> httpx.Client:
    global _client
    with _lock:
        if _client is None or _client.is_closed:
            _client = httpx.Client(trust_env=False, verify=False,
                                   limits=httpx.Limits(max_keepalive_connections=8))
        return _client
