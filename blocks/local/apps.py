"""`LocalApp`: how to run one app on the local target, and the registry that stores them.

A definition is what Kubernetes would call the Deployment template plus its Service ports:
the command that starts one instance (with `{port}`, `{version}` and `{app}` placeholders), how
many replicas, the entry and preview ports nginx listens on, the health path, the base env, the
checks a rollout runs first, and the traffic the load generator sends.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from blocks.errors import TargetError, UnknownApp
from blocks.local.files import atomic_write_text
from blocks.local.layout import StateLayout
from blocks.rollout_terms import APP_NAME, ENV_KEY, VERSION

Port = int


class TrafficRequest(BaseModel):
    """One kind of request the load generator sends; `bodies` are cycled through."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"] = "GET"
    path: str = Field("/", pattern=r"^/[^\s]*$")
    bodies: list[dict[str, Any]] = Field(default_factory=list, description="JSON bodies.")
    weight: float = Field(1.0, gt=0, description="Relative share of the app's traffic.")


class LoadProfile(BaseModel):
    """The steady traffic an app receives while the local stack runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: list[TrafficRequest] = Field(
        default_factory=lambda: [TrafficRequest()],
        description="Requests sent in turn (method, path, JSON body).",
    )
    rate_per_second: float | None = Field(
        None, ge=0, le=1000, description="Overrides the stack's loadgen_rate for this app."
    )


class LocalApp(BaseModel):
    """One app the local target can roll out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=APP_NAME, description="DNS-label app name.")
    command: list[str] = Field(
        min_length=1,
        description="argv of one instance; {port}, {version} and {app} are substituted.",
    )
    replicas: int = Field(2, ge=1, le=100, description="Instances of the stable version.")
    entry_port: Port = Field(ge=1, le=65535, description="nginx port users reach the app on.")
    preview_port: Port = Field(
        ge=1, le=65535, description="nginx port reaching the preview (green) version."
    )
    health_path: str = Field(
        "/health", pattern=r"^/[^\s]*$", description="Probed to decide an instance is ready."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Base env of every version.")
    required_config: list[str] = Field(
        default_factory=list, description="Keys every version's env must set (validation)."
    )
    migration_check: list[str] | None = Field(
        None, description="Command that must exit 0 before any rollout (validation)."
    )
    cwd: str | None = Field(
        None, description="Working directory of the instances (a relative path is taken from "
        "the state dir, so every process agrees on it).")
    initial_version: str = Field("v1", pattern=VERSION, description="Started at first `up`.")
    load: LoadProfile = Field(
        default_factory=LoadProfile, description="What the load generator sends this app."
    )

    @field_validator("command")
    @classmethod
    def _needs_port(cls, command: list[str]) -> list[str]:
        if not any("{port}" in part for part in command):
            raise ValueError("command must contain a {port} placeholder (instances share a host)")
        return command

    @field_validator("env")
    @classmethod
    def _env_keys(cls, env: dict[str, str]) -> dict[str, str]:
        bad = [key for key in env if not _valid_env_key(key)]
        if bad:
            raise ValueError(f"env keys {bad} are not valid variable names")
        return env

    @model_validator(mode="after")
    def _distinct_ports(self) -> LocalApp:
        if self.entry_port == self.preview_port:
            raise ValueError(f"entry_port and preview_port are both {self.entry_port}")
        return self

    def argv(self, version: str, port: int) -> list[str]:
        """The instance command with its placeholders filled in."""
        return [
            part.replace("{port}", str(port)).replace("{version}", version).replace(
                "{app}", self.name
            )
            for part in self.command
        ]


def _valid_env_key(key: str) -> bool:
    return re.fullmatch(ENV_KEY, key) is not None


class AppRegistry:
    """Registered apps, one JSON file each under `<state>/apps/<app>/app.json`."""

    def __init__(self, layout: StateLayout, reserved_ports: dict[int, str]) -> None:
        self._layout = layout
        self._reserved = reserved_ports  # port -> what uses it (admin, prometheus)

    def names(self) -> list[str]:
        if not self._layout.apps_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self._layout.apps_dir.glob("*/app.json"))

    def all(self) -> list[LocalApp]:
        return [self.get(name) for name in self.names()]

    def get(self, name: str) -> LocalApp:
        path = self._layout.app_file(name)
        if not path.exists():
            known = ", ".join(self.names()) or "none"
            raise UnknownApp(f"no local app named {name!r} (registered: {known})")
        return LocalApp.model_validate(json.loads(path.read_text()))

    def register(self, app: LocalApp) -> None:
        """Add or update an app; refuses ports another app or the stack already uses."""
        used = dict(self._reserved)
        for other in self.all():
            if other.name != app.name:
                used[other.entry_port] = f"{other.name} entry"
                used[other.preview_port] = f"{other.name} preview"
        for port in (app.entry_port, app.preview_port):
            if port in used:
                raise TargetError(f"{app.name}: port {port} is already used by {used[port]}")
        atomic_write_text(self._layout.app_file(app.name), app.model_dump_json(indent=2))

    def unregister(self, name: str) -> None:
        self._layout.app_file(name).unlink(missing_ok=True)
