"""The target the control API steers, built from `Settings.control_target` on first use.

Built lazily, not at startup: a target kept in a Prefect block needs the Prefect API to load, and
an API that cannot start while Prefect is down could not even answer `GET /rollouts/{app}` or an
abort (which need only the target). A failure to build it is a 503 with the reason, retried on
the next request; a built target is kept for the life of the app.

Tests replace it through the `get_target` dependency (`app.control.deps`).
"""

from __future__ import annotations

import threading
from pathlib import Path

from app.config import Settings
from app.control.errors import ControlError
from blocks.errors import ConfigurationError
from blocks.target import Target
from blocks.target_names import LOCAL, load_target_block


def build_target(settings: Settings) -> Target:
    """`local` (the stack in `FLOODGATE_HOME`) or a saved target block."""
    if settings.control_target == LOCAL:
        from blocks.local.settings import LocalSettings, default_state_dir
        from blocks.local.target import LocalTarget

        home = settings.floodgate_home or default_state_dir()
        return LocalTarget(LocalSettings.load(Path(home).expanduser().resolve()))
    return load_target_block(settings.control_target).get_target()


class TargetProvider:
    """One target per app, built on first use (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._target: Target | None = None
        self._lock = threading.Lock()

    def get(self) -> Target:
        with self._lock:
            if self._target is None:
                self._target = self._build()
            return self._target

    def _build(self) -> Target:
        name = self._settings.control_target
        try:
            return build_target(self._settings)
        except ConfigurationError as error:
            raise ControlError(503, f"target {name!r} is not usable: {error}") from error
        except Exception as error:  # e.g. the Prefect API holding the block is down
            raise ControlError(
                503, f"target {name!r} could not be loaded: {type(error).__name__}: {error}"
            ) from error
