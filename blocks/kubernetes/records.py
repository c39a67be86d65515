"""Rollout records in ConfigMaps: the current one per app, and one history entry per rollout.

`floodgate-rollout-<app>` holds the record the flows resume from (key `rollout.json`; one
write replaces it atomically). `floodgate-history-<app>-<id>` holds the latest state of each
rollout, newest `history_limit` kept. The current record is written first: it is the source of
truth, and a crash between the two writes leaves only the history one save behind, which the
next save repairs. The record is opaque JSON owned by `flows`; only its `id` (and `created_at`
for ordering) is read here.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.kinds import CONFIG_MAP
from blocks.kubernetes.manifests import config_map_manifest

JSON = dict[str, Any]
KEY = "rollout.json"
CREATED_AT = "floodgate.dev/created-at"
log = logging.getLogger("floodgate.kubernetes.records")


class RecordStore:
    def __init__(self, api: KubeApi, history_limit: int = 50) -> None:
        self._api = api
        self._history_limit = history_limit
        self._seen: set[tuple[str, str]] = set()

    def load(self, app: str) -> JSON | None:
        name = names.record_config_map(app)
        found = self._api.get(CONFIG_MAP, name)
        if found is None:
            return None
        return _parse(found, f"ConfigMap {self._api.namespace}/{name}")

    def save(self, app: str, record: JSON) -> None:
        rollout_id = record.get("id") if isinstance(record, dict) else None
        if not isinstance(rollout_id, str) or not rollout_id:
            raise TargetError("a rollout record must be a JSON object with a string 'id'")
        text = json.dumps(record, sort_keys=True)
        created = str(record.get("created_at") or datetime.now(UTC).isoformat())
        annotations = {CREATED_AT: created, "floodgate.dev/rollout-id": rollout_id}
        self._api.apply(config_map_manifest(
            names.record_config_map(app), names.part_labels(app, "rollout"), {KEY: text},
            annotations,
        ))
        self._api.apply(config_map_manifest(
            names.history_config_map(app, rollout_id), names.part_labels(app, "history"),
            {KEY: text}, annotations,
        ))
        if (app, rollout_id) not in self._seen:
            self._seen.add((app, rollout_id))
            self._prune(app)

    def history(self, app: str, limit: int = 20) -> list[JSON]:
        """Newest first."""
        entries = self._entries(app)[:limit]
        return [_parse(cm, cm["metadata"]["name"]) for cm in entries]

    def _entries(self, app: str) -> list[JSON]:
        found = self._api.list_objects(CONFIG_MAP, names.part_selector("history", app))

        def newest(cm: JSON) -> tuple[str, str]:
            meta = cm["metadata"]
            return (meta.get("annotations") or {}).get(CREATED_AT, ""), meta["name"]

        return sorted(found, key=newest, reverse=True)

    def _prune(self, app: str) -> None:
        for cm in self._entries(app)[self._history_limit:]:
            log.info("pruning rollout history entry %s", cm["metadata"]["name"])
            self._api.delete(CONFIG_MAP, cm["metadata"]["name"])


def _parse(config_map: JSON, where: str) -> JSON:
    text = (config_map.get("data") or {}).get(KEY)
    try:
        record = json.loads(text) if text is not None else None
    except ValueError as exc:
        raise TargetError(f"rollout record in {where} is damaged: {exc}") from exc
    if not isinstance(record, dict):
        raise TargetError(f"rollout record in {where} is missing or not a JSON object")
    return record
