"""The load generator process: steady rate, attribution by X-Version, live config changes."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from blocks.local.apps import TrafficRequest
from blocks.local.layout import StateLayout
from blocks.local.loadgen import LoadConfig, LoadStream, read_stats
from blocks.local.managed import ProcessBook
from blocks.local.processes import owned_processes


class VersionedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    version_header = "v1"

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        status = 500 if self.path == "/fail" else 200
        self.send_response(status)
        self.send_header("X-Version", self.version_header)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), VersionedHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def write_config(layout: StateLayout, streams: list[LoadStream]) -> None:
    config = LoadConfig(streams=streams, stats_file=str(layout.loadgen_stats))
    layout.loadgen_config.parent.mkdir(parents=True, exist_ok=True)
    layout.loadgen_config.write_text(config.model_dump_json())


def wait_stats(layout: StateLayout, check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        stats = read_stats(layout.loadgen_stats).get("apps", {})
        try:
            return check(stats)
        except (AssertionError, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_rate_attribution_and_live_config(tmp_path: Path, server: str) -> None:
    layout = StateLayout(tmp_path)
    mixed = [TrafficRequest(method="POST", path="/score", bodies=[{"a": 1}], weight=3),
             TrafficRequest(method="GET", path="/model")]
    write_config(layout, [LoadStream(app="a", port="entry", url=server, rate=30,
                                     requests=mixed)])
    book = ProcessBook(layout)
    root = Path(__file__).resolve().parents[3]
    book.start("loadgen", [sys.executable, "-m", "blocks.local.loadgen",
                           str(layout.loadgen_config)], cwd=root,
               ready=layout.loadgen_stats.exists)
    try:
        def full_window(apps):
            entry = apps["a"]["entry"]
            assert entry["completed"] >= 300
            return entry

        entry = wait_stats(layout, full_window)
        assert 24 <= entry["rate_10s"] <= 36, entry
        assert entry["failed"] == 0
        assert entry["by_version"] == {"v1": entry["completed"]}

        failing = [TrafficRequest(path="/fail")]
        write_config(layout, [LoadStream(app="b", port="entry", url=server, rate=10,
                                         requests=failing)])

        def b_seen(apps):
            assert apps["b"]["entry"]["completed"] >= 5
            return apps

        apps = wait_stats(layout, b_seen)
        assert apps["b"]["entry"]["failed"] == apps["b"]["entry"]["completed"]
        assert apps["b"]["entry"]["last_error"] == "HTTP 500"
        frozen = apps["a"]["entry"]["sent"]
        time.sleep(1.5)
        stats = json.loads(layout.loadgen_stats.read_text())["apps"]
        assert stats["a"]["entry"]["sent"] == frozen  # stream a was removed from the config
    finally:
        book.stop("loadgen")
    assert owned_processes(tmp_path) == []
