"""PrometheusMetricsSource against a real Prometheus scraping an exporter with known traffic.

Every scrape of the exporter adds, for fraud-api v2's /score route, 10 requests of which 3 are
500s, 9 answered within 10 ms and 1 within 1 s — so the error rate is 30 % and p95, interpolated
in the (0.01, 1] bucket, is 0.01 + 0.99 × 0.5 = 0.505 s. Its /metrics route gets 100 successes a
scrape, which the source must leave out (an idle canary must not look busy and healthy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from blocks.prometheus import PrometheusMetricsSource
from tests.support.prometheus import PrometheusServer


class Exporter(ThreadingHTTPServer):
    scrapes = 0


def exposition(n: int) -> str:
    lines = []
    for route, ok, errors in (("/score", 7 * n, 3 * n), ("/metrics", 100 * n, 0)):
        labels = f'app="fraud-api",version="v2",method="POST",route="{route}"'
        lines.append(f'http_requests_total{{{labels},status="200"}} {ok}')
        lines.append(f'http_requests_total{{{labels},status="500"}} {errors}')
        fast, total = (9 * n, 10 * n) if route == "/score" else (100 * n, 100 * n)
        for le, count in (("0.01", fast), ("1.0", total), ("+Inf", total)):
            lines.append(f'http_request_duration_seconds_bucket{{{labels},le="{le}"}} {count}')
        lines.append(f"http_request_duration_seconds_count{{{labels}}} {total}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def exporter() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server = self.server
            assert isinstance(server, Exporter)
            server.scrapes += 1
            body = exposition(server.scrapes).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = Exporter(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_error_rate_p95_and_requests_of_one_version(
    prometheus_server: PrometheusServer, exporter: str
) -> None:
    prometheus_server.set_targets("known-traffic", [exporter])
    source = PrometheusMetricsSource(prometheus_server.url, timeout=5)
    deadline = time.monotonic() + 60
    while True:
        m = source.measure("fraud-api", "v2", window_seconds=10)
        if (m.requests and m.requests >= 50) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert m.error is None
    assert m.error_rate == pytest.approx(0.3, abs=0.02)
    assert m.p95_seconds == pytest.approx(0.505, abs=0.03)
    # ~10 per 1 s scrape over a 10 s window; /metrics (100 per scrape) is not counted
    assert 50 <= (m.requests or 0) <= 150


def test_a_version_without_traffic_has_no_data(prometheus_server: PrometheusServer) -> None:
    m = PrometheusMetricsSource(prometheus_server.url).measure("fraud-api", "v9", 10)
    assert m.error is None
    assert (m.requests, m.error_rate, m.p95_seconds) == (None, None, None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "http://127.0.0.1:9/prefix"])
def test_an_unreachable_prometheus_is_a_measurement_error(url: str) -> None:
    m = PrometheusMetricsSource(url, timeout=1).measure("fraud-api", "v2", 10)
    assert m.error is not None
    assert url.split("/prefix")[0] in m.error
    assert m.requests is None


def test_label_values_are_escaped_in_queries() -> None:
    queries = PrometheusMetricsSource("http://x").queries('a"b', "v\\1", 30)
    assert 'app="a\\"b"' in queries["requests"]
    assert 'version="v\\\\1"' in queries["requests"]
    assert "[30s]" in queries["p95_seconds"]
