"""`LocalSettings`: where the local stack keeps its state and which loopback ports it uses.

One object is shared by the stack manager (`LocalStack`), the target (`LocalTarget`) and the
Prefect block (`LocalTargetBlock`), and `LocalStack.up()` saves it as `<state>/settings.json`, so
`floodgate local status` or a flow process started later can open the same stack with
`LocalSettings.load(state_dir)` instead of repeating the ports.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from blocks.errors import ConfigurationError
from blocks.local.files import atomic_write_text

RouterName = Literal["lua", "reload"]


def default_state_dir() -> Path:
    """`$FLOODGATE_HOME`, else `./.floodgate` (absolute, so spawned processes agree on it)."""
    home = os.environ.get("FLOODGATE_HOME")
    return Path(home).expanduser().resolve() if home else (Path.cwd() / ".floodgate").resolve()


class LocalSettings(BaseModel):
    """Configuration of one local stack; every port is on 127.0.0.1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state_dir: Path = Field(
        default_factory=default_state_dir,
        description="Where the stack keeps everything: $FLOODGATE_HOME, else ./.floodgate.",
    )
    admin_port: int = Field(8089, ge=1, le=65535, description="nginx admin (weights) port.")
    prometheus_port: int = Field(9090, ge=1, le=65535, description="Prometheus API and UI.")
    scrape_interval_seconds: float = Field(
        5, ge=0.5, le=300, description="How often Prometheus scrapes every instance."
    )
    router: RouterName = Field(
        "lua",
        description=(
            "How weights change: 'lua' switches at run time through nginx's shared memory "
            "(~15 ms); 'reload' rewrites the config and reloads nginx (~125 ms: nginx's master "
            "waits 100 ms before retiring old workers). See bench/switch_time.py."
        ),
    )
    nginx_workers: int = Field(1, ge=1, le=16, description="nginx worker processes.")
    nginx_binary: str = Field("/usr/sbin/nginx", description="nginx with the Lua module.")
    prometheus_binary: str = Field("prometheus", description="Looked up on PATH.")
    loadgen_enabled: bool = Field(
        default_factory=lambda: os.environ.get("FLOODGATE_LOADGEN", "1") not in {"0", "false"},
        description="Steady traffic to every app while the stack runs (env FLOODGATE_LOADGEN=0).",
    )
    loadgen_rate: float = Field(20, ge=0, le=1000, description="Requests per second per app.")
    loadgen_preview_share: float = Field(
        0.1, ge=0, le=1, description="Extra share of the rate sent to each preview port."
    )
    snapshot_retention_hours: float = Field(
        72, gt=0, description="Older snapshots are pruned and refused by restore."
    )
    stop_timeout_seconds: float = Field(
        10, gt=0, le=300, description="SIGTERM grace before SIGKILL when stopping a process."
    )
    ready_timeout_seconds: float = Field(
        60, gt=0, le=3600, description="How long restore waits for recreated instances."
    )

    @property
    def settings_file(self) -> Path:
        return self.state_dir / "settings.json"

    def save(self) -> None:
        """Persist next to the state so other processes open the same stack."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.settings_file, self.model_dump_json(indent=2))

    @classmethod
    def load(cls, state_dir: Path | None = None) -> LocalSettings:
        """The settings a stack was started with, or defaults for a state dir never used."""
        directory = (state_dir or default_state_dir()).resolve()
        path = directory / "settings.json"
        if not path.exists():
            return cls(state_dir=directory)
        loaded = cls.model_validate_json(path.read_text())
        return loaded.model_copy(update={"state_dir": directory})

    def binary(self, which: Literal["nginx", "prometheus"]) -> str:
        """Absolute path of a required binary, or a `ConfigurationError` saying how to get it."""
        name = self.nginx_binary if which == "nginx" else self.prometheus_binary
        found = shutil.which(name)
        if found is None:
            raise ConfigurationError(f"{which} binary {name!r} not found; run scripts/setup.sh")
        return found
