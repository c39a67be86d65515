"""Step 1 checks: database migrations, dependency versions, critical configuration.

Each check returns a list of problems (empty = fine) instead of raising, so one run reports every
reason a rollout is refused, not just the first.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

_TAIL = 400


def check_migrations(
    command: Sequence[str] | None, timeout: float, env: Mapping[str, str]
) -> list[str]:
    """The configured migration check (e.g. `alembic check`) must exit 0 in time."""
    if not command:
        return []
    try:
        done = subprocess.run(
            list(command),
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return [f"migration check: command not found: {command[0]}"]
    except subprocess.TimeoutExpired:
        return [f"migration check: {' '.join(command)} did not finish in {timeout:g}s"]
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-_TAIL:]
        return [f"migration check: {' '.join(command)} exited {done.returncode}: {output}"]
    return []


def check_dependencies(requires: Sequence[str], running: Mapping[str, str | None]) -> list[str]:
    """Every constraint such as `payments>=2.3` must hold for what the target runs now."""
    by_name = {canonicalize_name(app): (app, version) for app, version in running.items()}
    problems: list[str] = []
    for text in requires:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            problems.append(f"dependency {text!r} is not a valid constraint: {exc}")
            continue
        app, version = by_name.get(canonicalize_name(requirement.name), (requirement.name, None))
        if version is None:
            problems.append(f"dependency {text}: {requirement.name} is not running on the target")
            continue
        try:
            parsed = Version(version)
        except InvalidVersion:
            problems.append(
                f"dependency {text}: {app} runs {version!r}, which is not a comparable version"
            )
            continue
        if not requirement.specifier.contains(parsed, prereleases=True):
            problems.append(f"dependency {text}: {app} runs {version}")
    return problems


def check_config(required: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """Required keys must be present and non-empty (whitespace counts as empty)."""
    missing = [key for key in required if key not in env]
    empty = [key for key in required if key in env and not env[key].strip()]
    problems = []
    if missing:
        problems.append(f"critical config missing: {', '.join(sorted(missing))}")
    if empty:
        problems.append(f"critical config empty: {', '.join(sorted(empty))}")
    return problems
