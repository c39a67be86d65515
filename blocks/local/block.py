"""`LocalTargetBlock`: the local target as a Prefect Block (its state dir and ports as fields).

Fields left empty take the value the stack was started with (`<state>/settings.json`, written by
`LocalStack.up()`), else the defaults — so `LocalTargetBlock(state_dir=...)` opens whatever stack
runs there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.blocks.core import Block
from pydantic import Field

from blocks.local.settings import LocalSettings, RouterName, default_state_dir
from blocks.local.target import LocalTarget
from blocks.prometheus import PrometheusMetricsSource


class LocalTargetBlock(Block):
    """Apps as local processes behind nginx, scraped by a local Prometheus."""

    _block_type_name = "Floodgate Local Target"
    _block_type_slug = "floodgate-local-target"
    _description = "Local processes behind a real nginx (weighted upstreams) and Prometheus."

    state_dir: str = Field(default_factory=lambda: str(default_state_dir()),
                           description="State directory ($FLOODGATE_HOME or ./.floodgate).")
    admin_port: int | None = Field(None, ge=1, le=65535, description="nginx admin port.")
    prometheus_port: int | None = Field(None, ge=1, le=65535)
    router: RouterName | None = Field(None, description="'lua' (run-time) or 'reload'.")
    scrape_interval_seconds: float | None = Field(None, ge=0.5, le=300)
    loadgen_enabled: bool | None = None
    loadgen_rate: float | None = Field(None, ge=0, le=1000)

    def settings(self) -> LocalSettings:
        base = LocalSettings.load(Path(self.state_dir))
        overrides: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("admin_port", "prometheus_port", "router", "scrape_interval_seconds",
                         "loadgen_enabled", "loadgen_rate")
            if getattr(self, name) is not None
        }
        return base.model_copy(update=overrides) if overrides else base

    def get_target(self) -> LocalTarget:
        return LocalTarget(self.settings())

    def get_metrics_source(self) -> PrometheusMetricsSource:
        return PrometheusMetricsSource(f"http://127.0.0.1:{self.settings().prometheus_port}")

    @classmethod
    def from_settings(cls, settings: LocalSettings) -> LocalTargetBlock:
        return cls(state_dir=str(settings.state_dir), admin_port=settings.admin_port,
                   prometheus_port=settings.prometheus_port, router=settings.router,
                   scrape_interval_seconds=settings.scrape_interval_seconds,
                   loadgen_enabled=settings.loadgen_enabled, loadgen_rate=settings.loadgen_rate)
