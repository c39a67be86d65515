"""Snapshots in ConfigMaps: `floodgate-snapshot-<app>-<id>`, key `snapshot.json`.

A snapshot holds the cleaned specs of every object of the app (Deployments, Services,
Ingresses, HTTPRoutes, HPA, PDB) plus the stable version, instance counts, weights and env per
version, sealed with a checksum. Kept 72 h by the flows (`prune_snapshots`); a snapshot larger
than a ConfigMap can hold (1 MiB) is refused when taken, not discovered at restore time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from blocks.errors import InvalidSnapshot, TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.kinds import CONFIG_MAP
from blocks.kubernetes.manifests import config_map_manifest
from blocks.target import Snapshot

JSON = dict[str, Any]
KEY = "snapshot.json"
TAKEN_AT = "floodgate.dev/taken-at"
MAX_BYTES = 900_000  # below the 1 MiB object limit, leaving room for metadata
log = logging.getLogger("floodgate.kubernetes.snapshots")


class SnapshotStore:
    def __init__(self, api: KubeApi) -> None:
        self._api = api

    def save(self, snapshot: Snapshot) -> None:
        text = snapshot.model_dump_json()
        if len(text.encode()) > MAX_BYTES:
            raise TargetError(
                f"snapshot of {snapshot.app} is {len(text.encode())} bytes, more than a "
                f"ConfigMap can hold ({MAX_BYTES})"
            )
        self._api.apply(config_map_manifest(
            names.snapshot_config_map(snapshot.app, snapshot.id),
            {**names.part_labels(snapshot.app, "snapshot"),
             "floodgate.dev/snapshot-id": snapshot.id},
            {KEY: text}, {TAKEN_AT: snapshot.taken_at.isoformat()},
        ))

    def all(self, app: str) -> list[Snapshot]:
        """Newest first; damaged entries are logged and left out."""
        found: list[Snapshot] = []
        for cm in self._api.list_objects(CONFIG_MAP, names.part_selector("snapshot", app)):
            try:
                found.append(_parse(cm))
            except InvalidSnapshot as exc:
                log.warning("%s", exc)
        return sorted(found, key=lambda s: s.taken_at, reverse=True)

    def get(self, app: str, snapshot_id: str) -> Snapshot:
        try:
            name = names.snapshot_config_map(app, snapshot_id)
        except TargetError as exc:
            raise InvalidSnapshot(f"no snapshot {snapshot_id!r} for {app}: {exc}") from None
        cm = self._api.get(CONFIG_MAP, name)
        if cm is None:
            raise InvalidSnapshot(f"no snapshot {snapshot_id} for {app} (ConfigMap {name})")
        snapshot = _parse(cm)
        if snapshot.app != app or snapshot.id != snapshot_id:
            raise InvalidSnapshot(f"ConfigMap {name} holds snapshot {snapshot.id} of "
                                  f"{snapshot.app}, not {snapshot_id} of {app}")
        return snapshot

    def prune(self, app: str, older_than: timedelta, now: datetime) -> list[str]:
        cutoff = now - older_than
        pruned = []
        for snapshot in self.all(app):
            if snapshot.taken_at < cutoff:
                self._api.delete(CONFIG_MAP, names.snapshot_config_map(app, snapshot.id))
                pruned.append(snapshot.id)
        return pruned


def _parse(cm: JSON) -> Snapshot:
    name = cm["metadata"]["name"]
    text = (cm.get("data") or {}).get(KEY)
    if text is None:
        raise InvalidSnapshot(f"ConfigMap {name} holds no {KEY}")
    try:
        return Snapshot.model_validate_json(text)
    except ValidationError as exc:
        raise InvalidSnapshot(f"ConfigMap {name} holds a damaged snapshot: {exc}") from exc
