"""The README documents every setting: its generated section must match the models."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_settings_doc():
    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "scripts/settings_doc.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_settings_section_is_current():
    doc = load_settings_doc()
    readme = (ROOT / "README.md").read_text()
    assert doc.render() in readme, "run: python scripts/settings_doc.py --write"


def test_every_setting_has_a_description():
    rendered = load_settings_doc().render()
    missing = [line for line in rendered.splitlines() if line.startswith("| `") and
               line.rstrip().endswith("|  |")]
    assert not missing, "settings without a description:\n" + "\n".join(missing)
