"""Every exception the flows raise, in one place (httpx style).

The CLI maps them to exit codes: `BadInput` (and its subclasses) → 2, `RolledBack` → 3,
anything else → 1.
"""

from __future__ import annotations


class FloodgateError(Exception):
    """Base of every Floodgate error."""


class BadInput(FloodgateError):
    """The request is malformed or names something unknown; nothing was changed."""


class RolloutInProgress(BadInput):
    """Another rollout of the same app is running or unfinished; nothing was changed."""


class InvalidTransition(FloodgateError):
    """A phase change the state machine does not allow (a bug, or a corrupted record)."""


class ValidationFailed(FloodgateError):
    """Step 1 refused the rollout (migrations, dependencies or configuration)."""


class HealthCheckFailed(FloodgateError):
    """Step 3: at least one new instance never answered its health check."""


class RolledBack(FloodgateError):
    """The rollout ended rolled back; carries the reason."""


class RolloutFailed(FloodgateError):
    """The rollout ended failed (e.g. refused by validation); carries the reason."""
