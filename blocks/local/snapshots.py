"""Snapshots as sealed JSON files, and the checks a snapshot passes before it is restored.

A snapshot is refused (`InvalidSnapshot`, with the reason) when it belongs to another app, its
checksum does not match its content (edited or damaged file), or it is older than the retention
(72 h by default, the seed's rollback window): restoring a week-old state would silently undo
every change made since.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from blocks.errors import InvalidSnapshot
from blocks.local.files import atomic_write_text
from blocks.local.layout import StateLayout
from blocks.target import Snapshot, snapshot_age


def new_snapshot_id(now: datetime) -> str:
    """Sortable by time, unique across processes."""
    return f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"


class SnapshotStore:
    def __init__(self, layout: StateLayout) -> None:
        self._layout = layout

    def save(self, snapshot: Snapshot) -> Snapshot:
        sealed = snapshot.sealed()
        path = self._layout.snapshots_dir(sealed.app) / f"{sealed.id}.json"
        atomic_write_text(path, sealed.model_dump_json(indent=2))
        return sealed

    def get(self, app: str, snapshot_id: str) -> Snapshot:
        if "/" in snapshot_id or snapshot_id.startswith("."):
            raise InvalidSnapshot(f"invalid snapshot id {snapshot_id!r}")
        path = self._layout.snapshots_dir(app) / f"{snapshot_id}.json"
        try:
            return Snapshot.model_validate_json(path.read_text())
        except FileNotFoundError:
            raise InvalidSnapshot(f"{app} has no snapshot {snapshot_id!r}") from None
        except ValidationError as error:
            raise InvalidSnapshot(f"snapshot {snapshot_id} of {app} is unreadable: {error}") \
                from None

    def newest_first(self, app: str) -> list[Snapshot]:
        """Newest first; unreadable files are skipped (restore reports them by id)."""
        directory = self._layout.snapshots_dir(app)
        found = []
        for path in directory.glob("*.json") if directory.is_dir() else []:
            try:
                found.append(Snapshot.model_validate_json(path.read_text()))
            except (OSError, ValidationError):
                continue
        return sorted(found, key=lambda s: s.taken_at, reverse=True)

    def prune(self, app: str, older_than: timedelta, now: datetime | None = None) -> list[str]:
        moment = now or datetime.now(UTC)
        removed = []
        for snapshot in self.newest_first(app):
            if snapshot_age(snapshot, moment) > older_than:
                (self._layout.snapshots_dir(app) / f"{snapshot.id}.json").unlink(missing_ok=True)
                removed.append(snapshot.id)
        return removed


def validate(snapshot: Snapshot, app: str, retention: timedelta, now: datetime) -> None:
    """Raise `InvalidSnapshot` saying why `snapshot` must not be restored for `app`."""
    if snapshot.app != app:
        raise InvalidSnapshot(f"snapshot {snapshot.id} is of {snapshot.app!r}, not {app!r}")
    if snapshot.checksum != snapshot.compute_checksum():
        raise InvalidSnapshot(f"snapshot {snapshot.id} fails its checksum (edited or damaged)")
    age = snapshot_age(snapshot, now)
    if age > retention:
        raise InvalidSnapshot(
            f"snapshot {snapshot.id} is {age.total_seconds() / 3600:.1f} h old, beyond the "
            f"{retention.total_seconds() / 3600:g} h retention"
        )
