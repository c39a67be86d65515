"""The stack's Prometheus: its config, its process, and the file_sd targets it scrapes.

Every instance is a scrape target with `app`, `version` and `track` labels (file_sd, one JSON
file per app, replaced atomically so Prometheus never reads half a file). The target labels are
the platform's truth: if an app's own metrics carry `app`/`version` too, Prometheus renames those
to `exported_*` and a relabel rule drops them, so every series has exactly one `app`/`version`.

Tracks: the stable version is `stable`; another version carries the `FLOODGATE_TRACK` of its env
if it was given one (e.g. `green`, `canary`), else `green` while it is the preview version, else
`canary`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from blocks.errors import TargetError
from blocks.local.files import atomic_write_json, atomic_write_text
from blocks.local.http import loopback_client
from blocks.local.instances import InstanceRecord
from blocks.local.layout import StateLayout
from blocks.local.managed import ComponentRecord, ProcessBook, url_ready
from blocks.local.routing_table import RoutingState
from blocks.local.settings import LocalSettings

COMPONENT = "prometheus"
TRACK_VAR = "FLOODGATE_TRACK"
SCRAPE_JOB = "floodgate-apps"


def track_of(version: str, routing: RoutingState, env: dict[str, str]) -> str:
    if version == routing.stable:
        return "stable"
    if env.get(TRACK_VAR):
        return env[TRACK_VAR]
    return "green" if version == routing.preview else "canary"


def file_sd_groups(app: str, records: list[InstanceRecord], routing: RoutingState,
                   envs: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """file_sd target groups for one app: one group per instance (its labels)."""
    return [
        {
            "targets": [record.address],
            "labels": {
                "app": app,
                "version": record.version,
                "track": track_of(record.version, routing, envs.get(record.version, {})),
                "floodgate_instance": record.name,
            },
        }
        for record in records
        if not record.stopping
    ]


def write_file_sd(layout: StateLayout, app: str, groups: list[dict[str, Any]]) -> None:
    atomic_write_json(layout.file_sd_dir / f"{app}.json", groups)


def remove_file_sd(layout: StateLayout, app: str) -> None:
    (layout.file_sd_dir / f"{app}.json").unlink(missing_ok=True)


def render_config(settings: LocalSettings, layout: StateLayout) -> str:
    interval = f"{settings.scrape_interval_seconds:g}s"
    timeout = f"{min(settings.scrape_interval_seconds, 4.0):g}s"
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "scrape_timeout": timeout},
        "scrape_configs": [{
            "job_name": SCRAPE_JOB,
            "honor_labels": False,
            "file_sd_configs": [{"files": [str(layout.file_sd_dir / "*.json")],
                                 "refresh_interval": interval}],
            "metric_relabel_configs": [
                {"action": "labeldrop", "regex": "exported_(app|version)"},
            ],
        }],
    }
    return yaml.safe_dump(config, sort_keys=False)


class PrometheusServer:
    def __init__(self, settings: LocalSettings, layout: StateLayout, book: ProcessBook) -> None:
        self._settings = settings
        self._layout = layout
        self._book = book
        self.url = f"http://127.0.0.1:{settings.prometheus_port}"

    def start(self, timeout: float = 60.0) -> ComponentRecord:
        """Start Prometheus (idempotent); returns once /-/ready answers.

        If it already runs with another config (a new scrape interval), it is told to reload
        it (`--web.enable-lifecycle`) instead of being restarted: its data stays.
        """
        config = self._layout.prometheus_dir / "prometheus.yml"
        text = render_config(self._settings, self._layout)
        changed = not config.exists() or config.read_text() != text
        atomic_write_text(config, text)
        self._layout.file_sd_dir.mkdir(parents=True, exist_ok=True)
        running = self._book.running(COMPONENT)
        if running is not None:
            if changed:
                self.reload_config()
            return running
        data: Path = self._layout.prometheus_dir / "data"
        argv = [
            self._settings.binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{self._settings.prometheus_port}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=3d",
            "--log.level=warn",
        ]
        return self._book.start(COMPONENT, argv, port=self._settings.prometheus_port,
                                ready_url=f"{self.url}/-/ready", timeout=timeout)

    def reload_config(self) -> None:
        try:
            loopback_client().post(f"{self.url}/-/reload", timeout=10).raise_for_status()
        except httpx.HTTPError as error:
            raise TargetError(f"Prometheus did not reload its config: {error}") from error

    def ready(self) -> bool:
        return url_ready(f"{self.url}/-/ready")

    def stop(self, timeout: float = 10.0) -> None:
        self._book.stop(COMPONENT, timeout)
