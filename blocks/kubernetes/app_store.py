"""App definitions and stable versions, kept in the ConfigMap `floodgate-app-<name>`.

Key `app.yaml` is the definition (server-side applied by `register_app`); key `stable-version`
is written by `mark_stable` and restores (a merge patch of that one key, so registering a new
definition never forgets which version is stable, and the stable version changes atomically).
"""

from __future__ import annotations

import re
from typing import Any

from blocks.errors import UnknownApp
from blocks.kubernetes import names
from blocks.kubernetes.api import KubeApi
from blocks.kubernetes.app import KubernetesApp
from blocks.kubernetes.kinds import CONFIG_MAP
from blocks.kubernetes.manifests import config_map_manifest
from blocks.rollout_terms import APP_NAME

JSON = dict[str, Any]
DEFINITION_KEY = "app.yaml"
STABLE_KEY = "stable-version"
PART = "app"


class AppStore:
    def __init__(self, api: KubeApi) -> None:
        self._api = api

    def register(self, app: KubernetesApp) -> None:
        self._api.apply(config_map_manifest(
            names.app_config_map(app.name), names.part_labels(app.name, PART),
            {DEFINITION_KEY: app.to_yaml()},
        ))

    def _config_maps(self) -> list[JSON]:
        return self._api.list_objects(CONFIG_MAP, names.part_selector(PART))

    def names(self) -> list[str]:
        return sorted(_app_of(cm) for cm in self._config_maps())

    def stable_versions(self) -> dict[str, str | None]:
        """app → stable version of every registered app, from one list call."""
        return {_app_of(cm): (cm.get("data") or {}).get(STABLE_KEY) for cm in self._config_maps()}

    def get(self, name: str) -> tuple[KubernetesApp, str | None]:
        """(definition, stable version); UnknownApp listing the registered apps."""
        found = None
        if re.fullmatch(APP_NAME, name):
            found = self._api.get(CONFIG_MAP, names.app_config_map(name))
        if found is None or DEFINITION_KEY not in (found.get("data") or {}):
            known = ", ".join(self.names()) or "none"
            raise UnknownApp(
                f"no app named {name!r} in namespace {self._api.namespace} (registered: {known})"
            )
        data = found["data"]
        where = f"ConfigMap {self._api.namespace}/{names.app_config_map(name)}"
        return KubernetesApp.from_yaml(data[DEFINITION_KEY], where), data.get(STABLE_KEY)

    def set_stable(self, name: str, version: str | None) -> None:
        self._api.merge_patch(CONFIG_MAP, names.app_config_map(name),
                              {"data": {STABLE_KEY: version}})


def _app_of(config_map: JSON) -> str:
    return str(config_map["metadata"]["labels"][f"{names.PART}-of"])
