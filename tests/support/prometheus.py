"""A real Prometheus on a free loopback port, with a temp config and data dir.

Scrape targets come from file service discovery: `set_targets("job", ["127.0.0.1:8001"])`
writes `targets/job.json`, which Prometheus re-reads on change (no restart), the way the local
target registers replicas. Rule files can be loaded at start (`rule_files=`) and
`reload()` re-reads the config. `query()` runs an instant PromQL query.

    with running_prometheus(tmp_path) as prom:
        prom.set_targets("fraud", ["127.0.0.1:8001"], labels={"env": "test"})
        prom.wait_for_series('up{job="fraud"} == 1')
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.ports import free_port


@dataclass
class PrometheusServer:
    """A running Prometheus; `start()`/`stop()` also let tests simulate an outage."""

    port: int
    workdir: Path
    scrape_interval: str = "1s"
    rule_files: Sequence[Path] = ()
    process: subprocess.Popen[bytes] | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def targets_dir(self) -> Path:
        return self.workdir / "targets"

    def write_config(self) -> Path:
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        config = {
            "global": {"scrape_interval": self.scrape_interval,
                       "evaluation_interval": self.scrape_interval,
                       "scrape_timeout": self.scrape_interval},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [{
                "job_name": "file_sd",
                "file_sd_configs": [{"files": [str(self.targets_dir / "*.json")],
                                     "refresh_interval": "1s"}],
                # the file's "job" label names the job, so each app gets its own
                "relabel_configs": [{"source_labels": ["__job"], "target_label": "job",
                                     "regex": "(.+)"}],
            }],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is not installed; run scripts/setup.sh")
        config = self.write_config()
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        self._log = (self.workdir / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle",
             "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited; see {self.workdir / 'prometheus.log'}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"prometheus not ready on {self.url} after {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def reload(self) -> None:
        """Re-read the config and rule files (POST /-/reload)."""
        self.write_config()
        httpx.post(f"{self.url}/-/reload", timeout=10).raise_for_status()

    def set_targets(
        self, job: str, targets: Sequence[str], labels: Mapping[str, str] | None = None
    ) -> None:
        """Scrape `targets` (host:port) as job `job`; an empty list stops scraping them."""
        entry = [{"targets": list(targets), "labels": {"__job": job, **(labels or {})}}]
        tmp = self.targets_dir / f".{job}.json.tmp"
        tmp.write_text(json.dumps(entry if targets else []))
        tmp.replace(self.targets_dir / f"{job}.json")  # atomic: never a half-written file

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query; returns the result vector (or raises on a query error)."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"query {promql!r} failed: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for_series(self, promql: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll `promql` until it returns at least one series (scrapes are asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"no series for {promql!r} after {timeout:.0f}s")
            time.sleep(0.2)


@contextmanager
def running_prometheus(
    workdir: Path, scrape_interval: str = "1s", rule_files: Sequence[Path] = ()
) -> Iterator[PrometheusServer]:
    """Start a Prometheus for the duration of the block."""
    server = PrometheusServer(
        port=free_port(), workdir=workdir, scrape_interval=scrape_interval,
        rule_files=tuple(rule_files),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
