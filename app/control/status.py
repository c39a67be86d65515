"""Read-only views of apps and rollouts, from the target alone (no Prefect needed).

Weights and instances are read back from the platform (nginx's served config, the cluster), not
from the record. If the platform cannot answer that part, the status still answers with what the
target's records say and names the failure (`weights: null`, `weights_error`): a person looking
at a broken rollout needs the record most when the platform misbehaves.
"""

from __future__ import annotations

from typing import Any

from app.control.records import read_record
from app.control.target_calls import current, describe, in_thread
from blocks.errors import TargetError
from blocks.target import Target


async def app_status(target: Target, app: str) -> dict[str, Any]:
    """Phase, stable version, served weights, entry points, instances and the current rollout."""
    info = await describe(target, app)
    rollout = await current(target, app)
    data: dict[str, Any] = {
        "app": app,
        "target": target.name,
        "phase": rollout.phase if rollout is not None else "Idle",
        "stable_version": info.stable_version,
        "entrypoint": info.entrypoint,
        "preview": info.preview,
    }
    try:
        data["weights"] = await in_thread(target.get_weights, app)
    except TargetError as error:
        data["weights"], data["weights_error"] = None, str(error)
    try:
        data["instances"] = [
            {"name": i.name, "version": i.version, "address": i.address, "ready": i.ready}
            for i in await in_thread(target.instances, app)
        ]
    except TargetError as error:
        data["instances"], data["instances_error"] = None, str(error)
    data["rollout"] = rollout.summary() if rollout is not None else None
    return data


async def app_history(target: Target, app: str, limit: int) -> list[dict[str, Any]]:
    """The app's rollouts, newest first, each with its transitions and analyses."""
    await describe(target, app)
    records = await in_thread(target.history, app, limit)
    views = [read_record(app, record) for record in records]
    return [view.detail() for view in views if view is not None]


async def list_apps(target: Target) -> list[dict[str, Any]]:
    """Every app the target knows, with its stable version and the phase of its last rollout."""
    inventory = await in_thread(target.inventory)
    apps = []
    for name in sorted(inventory):
        rollout = await current(target, name)
        apps.append({
            "app": name,
            "stable_version": inventory[name],
            "phase": rollout.phase if rollout is not None else "Idle",
            "rollout_id": rollout.id if rollout is not None else None,
        })  # fmt: skip
    return apps
