"""App definitions and the registry: validation errors name the field, ports never clash."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from blocks.errors import TargetError, UnknownApp
from blocks.local.apps import AppRegistry, LocalApp
from blocks.local.layout import StateLayout


def app(name: str = "fraud-api", entry: int = 18080, preview: int = 18081) -> LocalApp:
    return LocalApp(name=name, command=["serve", "--port", "{port}", "--v={version}"],
                    entry_port=entry, preview_port=preview)


def test_placeholders_are_filled_in() -> None:
    assert app().argv("v2", 4000) == ["serve", "--port", "4000", "--v=v2"]


def test_command_without_port_placeholder_is_refused() -> None:
    with pytest.raises(ValidationError, match="port"):
        LocalApp(name="a", command=["serve"], entry_port=1, preview_port=2)


@pytest.mark.parametrize(("field", "value"), [
    ("name", "Fraud API"), ("entry_port", 0), ("env", {"1BAD": "x"}), ("replicas", 0),
])
def test_bad_fields_are_named(field: str, value: object) -> None:
    data = app().model_dump() | {field: value}
    with pytest.raises(ValidationError, match=field):
        LocalApp.model_validate(data)


def test_registry_refuses_ports_in_use_and_lists_known_apps(tmp_path: Path) -> None:
    registry = AppRegistry(StateLayout(tmp_path), {18089: "the nginx admin endpoint"})
    registry.register(app())
    registry.register(app())  # updating the same app is fine
    with pytest.raises(TargetError, match="18081 is already used by fraud-api preview"):
        registry.register(app("payments", 18082, 18081))
    with pytest.raises(TargetError, match="admin endpoint"):
        registry.register(app("payments", 18089, 18090))
    with pytest.raises(UnknownApp, match=r"registered: fraud-api"):
        registry.get("payments")
    assert registry.names() == ["fraud-api"]
