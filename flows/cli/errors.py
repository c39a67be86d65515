"""Exit codes and error messages of the `floodgate` command.

0 succeeded · 1 other failure · 2 bad input or refused before any change · 3 rolled back.
Messages name the option or field at fault; nothing is changed when the exit code is 2.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from blocks.errors import AppLocked, ConfigurationError, InvalidSnapshot, TargetError, UnknownApp
from flows.errors import BadInput, FloodgateError

OK, FAILURE, BAD_INPUT, ROLLED_BACK = 0, 1, 2, 3

P = ParamSpec("P")
R = TypeVar("R")

err = Console(stderr=True, highlight=False)

REFUSED = (BadInput, UnknownApp, ConfigurationError, InvalidSnapshot, AppLocked)

# RolloutSpec field -> the CLI option that sets it, so messages name what the user typed.
OPTION_OF_FIELD = {
    "app": "APP",
    "version": "VERSION",
    "env": "--env",
    "steps": "--steps",
    "step_interval_seconds": "--step-interval",
    "step_intervals_seconds": "--step-interval",
    "replicas": "--replicas",
    "batch_size": "--batch-size",
    "min_healthy": "--min-healthy",
    "keep_previous_seconds": "--keep-previous",
    "pause_timeout_seconds": "--pause-timeout",
    "health": "--health-*",
    "analysis": "--analysis-*",
    "validation": "--requires/--required-config/--migration-check",
}


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        option = OPTION_OF_FIELD.get(loc[0], loc[0]) if loc else "input"
        detail = ".".join(loc[1:])
        where = f"{option} ({detail})" if detail else option
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def fail(code: int, message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def exit_code_for(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, ValidationError):
        return BAD_INPUT, describe_validation_error(exc)
    if isinstance(exc, REFUSED):
        return BAD_INPUT, str(exc)
    if isinstance(exc, (FloodgateError, TargetError)):
        return FAILURE, f"{type(exc).__name__}: {exc}"
    return FAILURE, f"{type(exc).__name__}: {exc}"


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn Floodgate's exceptions into a message and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            code, message = exit_code_for(exc)
            raise fail(code, message) from exc

    return wrapper
