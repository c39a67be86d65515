"""The words a rollout request is made of — app and version names, strategies, env, canary
steps — and their rules, in one place.

Both the deploy flow's `RolloutSpec` (flows/) and the control API's `RolloutRequest` (app/)
check requests with these; `app/` may not import `flows/`, and both may import `blocks/`, so the
rules live here once instead of as two copies kept equal by a test.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from itertools import pairwise
from typing import Annotated

from pydantic import Field

APP_NAME = r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$"
VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
ENV_KEY = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"

AppName = Annotated[str, Field(pattern=APP_NAME, description="DNS-label app name.")]
Version = Annotated[str, Field(pattern=VERSION, description="Version label, e.g. v2 or 2.4.1.")]

DEFAULT_CANARY_STEPS = (5, 10, 50, 100)


class Strategy(StrEnum):
    BLUE_GREEN = "blue-green"
    CANARY = "canary"
    ROLLING = "rolling"


def check_env(env: Mapping[str, str]) -> None:
    """Variable names a process can take, and values without NUL bytes."""
    for key, value in env.items():
        if not re.match(ENV_KEY, key):
            raise ValueError(f"env key {key!r} is not a valid variable name")
        if "\x00" in value:
            raise ValueError(f"env value of {key} contains a NUL byte")


def check_steps(steps: list[int]) -> None:
    """Canary weights: percentages that increase strictly and end at 100."""
    if not steps:
        raise ValueError("steps must not be empty")
    if any(not 0 < s <= 100 for s in steps):
        raise ValueError(f"every step must be in 1..100, got {steps}")
    if any(b <= a for a, b in pairwise(steps)):
        raise ValueError(f"steps must increase strictly, got {steps}")
    if steps[-1] != 100:
        raise ValueError(f"the last step must be 100, got {steps[-1]}")
