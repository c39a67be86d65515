"""Render every Floodgate setting as Markdown tables, from the pydantic models themselves.

The README's settings section is this script's output between the `settings:start` and
`settings:end` markers; `python scripts/settings_doc.py --write` refreshes it and a test fails
when the README is stale, so a new setting cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        try:
            value: Any = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(see below)"
    if isinstance(value, Path):
        return "(computed)"
    if hasattr(value, "value"):
        value = value.value
    if isinstance(value, str) and value:
        return f"`{value}`"
    text = json.dumps(value, default=str)
    return f"`{text}`"


def _type(field: FieldInfo) -> str:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    text = str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    text = re.sub(r"\b[a-z_]+\.[a-z_.]+\.", "", text)
    return text.replace("|", "\\|")


def table(model: type[BaseModel], name_of: Any = None) -> str:
    rows = ["| setting | type | default | what it does |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        shown = name_of(name) if name_of else f"`{name}`"
        about = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {shown} | {_type(field)} | {_default(field)} | {about} |")
    return "\n".join(rows)


def render() -> str:
    from app.config import Settings
    from blocks.kubernetes.app import KubernetesApp
    from blocks.kubernetes.block import KubernetesTargetBlock
    from blocks.local.apps import LoadProfile, LocalApp
    from blocks.local.settings import LocalSettings
    from blocks.policy import AnalysisPolicy
    from blocks.prometheus import PrometheusBlock
    from flows.spec import HealthCheck, RolloutSpec, Validation

    def env_name(name: str) -> str:
        return f"`{name.upper()}`"

    sections = [
        ("Rollout (`floodgate deploy` options, the `deploy` flow's `spec` parameter)",
         table(RolloutSpec)),
        ("Health check (`spec.health`; `--health-retries`, `--health-delay`, `--health-path`)",
         table(HealthCheck)),
        ("Validation (`spec.validation`; `--requires`, `--required-config`, "
         "`--migration-check`)", table(Validation)),
        ("Analysis policy (`spec.analysis`, or an `AnalysisPolicyBlock`; `--analysis-window`, "
         "`--min-requests`, `--p95-tolerance`)", table(AnalysisPolicy)),
        ("Local stack (`$FLOODGATE_HOME/settings.json`; `floodgate local up` options)",
         table(LocalSettings)),
        ("Local app definition (`LocalApp`)", table(LocalApp)),
        ("Local app load (`LocalApp.load`)", table(LoadProfile)),
        ("Kubernetes target (`KubernetesTargetBlock`, slug `floodgate-kubernetes-target`)",
         table(KubernetesTargetBlock)),
        ("Kubernetes app definition (`KubernetesApp`, stored as ConfigMap "
         "`floodgate-app-<name>`)", table(KubernetesApp)),
        ("Prometheus (`PrometheusBlock`)", table(PrometheusBlock)),
        ("Runtime and control API (`app/`: environment variables)", table(Settings, env_name)),
    ]  # fmt: skip
    body = "\n\n".join(f"#### {title}\n\n{text}" for title, text in sections)
    return f"{START}\n{body}\n{END}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args()
    rendered = render()
    if not args.write:
        print(rendered)
        return
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(START), text.index(END) + len(END)
    readme.write_text(text[:start] + rendered + text[end:])


if __name__ == "__main__":
    main()
