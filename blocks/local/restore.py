"""Taking a snapshot of an app and putting it back (the rollback path).

`capture` records what serves (weights read from nginx), which versions run how many instances
with which env, the preview and the stable version. `restore` validates first (app, checksum,
retention) and then converges, every step idempotent so an interrupted rollback is simply run
again: recreate missing instances of the snapshot's versions with the snapshot's env, wait until
they are ready (never route traffic to instances still starting), restore weights, preview and
stable, and only then stop the versions the snapshot did not have.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from blocks.errors import TargetError
from blocks.local.snapshots import new_snapshot_id, validate
from blocks.target import Snapshot

if TYPE_CHECKING:
    from blocks.local.target import LocalTarget


def capture(target: LocalTarget, app: str) -> Snapshot:
    target.registry.get(app)
    weights = target.get_weights(app)  # raises TargetError if nginx does not answer
    asked = target.routing.asked(app)
    counts: dict[str, int] = {}
    for record in target.store.records(app):
        if not record.stopping:
            counts[record.version] = counts.get(record.version, 0) + 1
    envs = {v: dict(spec.env) for v in counts if (spec := target.store.spec(app, v))}
    now = datetime.now(UTC)
    snapshot = Snapshot(
        id=new_snapshot_id(now), app=app, target=target.name, taken_at=now,
        stable_version=asked.stable, instances=counts, weights=weights, env=envs,
        payload={"preview": asked.preview},
    )
    return target.snapshot_store.save(snapshot)


def restore(target: LocalTarget, snapshot: Snapshot) -> None:
    app = snapshot.app
    target.registry.get(app)
    retention = timedelta(hours=target.settings.snapshot_retention_hours)
    validate(snapshot, app, retention, datetime.now(UTC))
    for version, count in sorted(snapshot.instances.items()):
        target.ensure_instances(app, version, count, snapshot.env.get(version, {}))
    _wait_ready(target, snapshot)
    routed = {v: w for v, w in snapshot.weights.items() if v in snapshot.instances}
    if routed:
        target.set_weights(app, routed)
    else:
        target.clear_routing(app, weights=True)
    preview = snapshot.payload.get("preview")
    target.set_preview(app, preview if isinstance(preview, str) else None)
    if snapshot.stable_version is not None:
        target.mark_stable(app, snapshot.stable_version)
    else:
        target.clear_routing(app, stable=True)
    for version in target.store.versions(app):
        if version not in snapshot.instances:
            target.retire(app, version)


def _wait_ready(target: LocalTarget, snapshot: Snapshot) -> None:
    deadline = time.monotonic() + target.settings.ready_timeout_seconds
    while True:
        not_ready = [
            i.name for v in snapshot.instances for i in target.instances(snapshot.app, v)
            if not i.ready
        ]
        if not not_ready:
            return
        if time.monotonic() > deadline:
            raise TargetError(
                f"restore of {snapshot.app}: instances not ready after "
                f"{target.settings.ready_timeout_seconds:g}s: {', '.join(sorted(not_ready))}"
            )
        time.sleep(0.1)
