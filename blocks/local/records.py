"""Rollout records (opaque JSON owned by `flows`) and the command mailbox, as files.

`rollout.json` is replaced atomically and every save is also kept as `history/<id>.json`, so the
history holds the latest state of each rollout. Commands are one file each, created atomically
and consumed by renaming (a rename succeeds for exactly one taker), so two readers never both act
on one `abort`.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from blocks.errors import TargetError
from blocks.local.files import atomic_write_json, atomic_write_text, read_json
from blocks.local.layout import StateLayout

JSON = dict[str, Any]
RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COMMAND = re.compile(r"^[a-z][a-z-]{0,31}$")


class RecordStore:
    def __init__(self, layout: StateLayout) -> None:
        self._layout = layout

    def load(self, app: str) -> JSON | None:
        data = read_json(self._layout.record_file(app))
        return data if isinstance(data, dict) else None

    def save(self, app: str, record: JSON) -> None:
        record_id = record.get("id") if isinstance(record, dict) else None
        if not isinstance(record_id, str) or not RECORD_ID.match(record_id):
            raise TargetError(
                f"a rollout record needs an 'id' of 1-64 letters, digits, '_' or '-', "
                f"got {record_id!r}"
            )
        text = json.dumps(record, indent=2, sort_keys=True, default=str) + "\n"
        atomic_write_text(self._layout.history_dir(app) / f"{record_id}.json", text)
        atomic_write_text(self._layout.record_file(app), text)

    def history(self, app: str, limit: int = 20) -> list[JSON]:
        """Newest first (by when each record was last saved)."""
        directory = self._layout.history_dir(app)
        if not directory.is_dir():
            return []
        paths = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns,
                       reverse=True)
        records = []
        for path in paths[: max(limit, 0)]:
            data = read_json(path)
            if isinstance(data, dict):
                records.append(data)
        return records


class CommandQueue:
    def __init__(self, layout: StateLayout) -> None:
        self._layout = layout

    def post(self, app: str, command: str) -> None:
        if not COMMAND.match(command):
            raise TargetError(f"invalid command {command!r}: expected e.g. abort, promote")
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}.cmd"
        atomic_write_json(self._layout.commands_dir(app) / name, {"command": command})

    def take(self, app: str) -> list[str]:
        """Every pending command, oldest first; each is returned to exactly one caller."""
        directory = self._layout.commands_dir(app)
        if not directory.is_dir():
            return []
        taken = []
        for path in sorted(directory.glob("*.cmd")):
            claimed = path.with_name(f".{path.name}.taken-{os.getpid()}-{uuid.uuid4().hex[:6]}")
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                continue  # another taker was first
            data = read_json(claimed)
            Path(claimed).unlink(missing_ok=True)
            if isinstance(data, dict) and isinstance(data.get("command"), str):
                taken.append(data["command"])
        return taken
