"""Commands for whoever drives an app (`abort`, `promote`, ...), queued in a ConfigMap.

`floodgate-commands-<app>` holds one key per command, named by post time, so posting is one
merge patch that adds a key (no read-modify-write race between posters). Taking reads the keys
and removes exactly those with the ConfigMap's resourceVersion as precondition: two takers can
never both get the same command, and a command posted meanwhile stays for the next take.
"""

from __future__ import annotations

import re
import time
import uuid

from blocks.errors import TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import Conflict, KubeApi
from blocks.kubernetes.kinds import CONFIG_MAP
from blocks.kubernetes.manifests import config_map_manifest

COMMAND = re.compile(r"^[a-z][a-z-]{0,31}$")
ATTEMPTS = 10


class CommandQueue:
    def __init__(self, api: KubeApi) -> None:
        self._api = api

    def post(self, app: str, command: str) -> None:
        if not isinstance(command, str) or not COMMAND.match(command):
            raise TargetError(f"command must be a word such as 'abort', got {command!r}")
        name = names.commands_config_map(app)
        if self._api.get(CONFIG_MAP, name) is None:
            self._api.apply(config_map_manifest(name, names.part_labels(app, "commands")))
        key = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        self._api.merge_patch(CONFIG_MAP, name, {"data": {key: command}})

    def take(self, app: str) -> list[str]:
        name = names.commands_config_map(app)
        for _ in range(ATTEMPTS):
            found = self._api.get(CONFIG_MAP, name)
            data = (found.get("data") if found else None) or {}
            if found is None or not data:
                return []
            keys = sorted(data)
            precondition = {"resourceVersion": found["metadata"]["resourceVersion"]}
            try:
                self._api.merge_patch(
                    CONFIG_MAP, name, {"metadata": precondition, "data": dict.fromkeys(keys)}
                )
            except Conflict:
                continue  # someone posted or took meanwhile: read again
            return [data[key] for key in keys]
        raise TargetError(f"could not take the commands of {app}: the queue kept changing")
