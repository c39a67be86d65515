"""Target calls from async routes: in a worker thread, with the API's answers to their errors.

The `Target` protocol is synchronous (files, nginx's admin port, the Kubernetes API); running it
in a thread keeps one slow platform call from stalling every other request on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from anyio import to_thread

from app.control.errors import ControlError
from app.control.records import RolloutView, read_record
from blocks.errors import UnknownApp
from blocks.target import AppInfo, Target

T = TypeVar("T")


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await to_thread.run_sync(partial(function, *args, **kwargs))


async def describe(target: Target, app: str) -> AppInfo:
    """The app's description; 404 listing the apps the target has when it is unknown."""
    try:
        return await in_thread(target.describe, app)
    except UnknownApp as error:
        known = await in_thread(target.apps)
        raise ControlError(
            404, f"unknown app {app!r} on target {target.name!r}; known: "
            f"{', '.join(known) or 'none'}", known_apps=known,
        ) from error


async def current(target: Target, app: str) -> RolloutView | None:
    """The app's latest rollout record, if any."""
    return read_record(app, await in_thread(target.load_record, app))
